"""The HTTP edge, the only package that imports Starlette: the Twirp envelope, the codec, both
APIs' endpoints, the journal, and the ASGI app they make."""
