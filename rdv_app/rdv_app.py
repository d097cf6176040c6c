import reflex as rx
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route


async def health(request):
    return JSONResponse({"status": "ok"})


api = Starlette(routes=[Route("/_health", health)])


def index() -> rx.Component:
    return rx.text("Bonjour")


app = rx.App(api_transformer=api)
app.add_page(index, route="/")
