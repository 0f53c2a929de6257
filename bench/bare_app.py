"""The ceiling: a bare Flask page (one render_template_string), served exactly like the app."""
from flask import Flask, render_template_string

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ title }}</title></head>
<body><h1>{{ title }}</h1><ul>{% for item in items %}<li>{{ item }}</li>{% endfor %}</ul></body>
</html>"""

app = Flask(__name__)


@app.get("/")
def index():
    """One template rendered from a string: what any Flask page costs at least."""
    return render_template_string(PAGE, title="Hello from bare Flask", items=range(10))
