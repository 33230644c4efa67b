from mock_server.cli import main

main()
