from mock_server.cli import run

run()
