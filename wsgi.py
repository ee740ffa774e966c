from adapters.http.app import create_app

app = create_app()
