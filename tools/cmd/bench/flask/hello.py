# The original tutorial's server, the reference row of the benchmark:
# Flask's hello world, served by Flask's development server as the original
# ran it. The benchmark passes the port in PORT.
import os

from flask import Flask

app = Flask(__name__)


@app.route("/")
def hello():
    return "Hello, World!"


if __name__ == "__main__":
    app.run(host="127.0.0.1", port=int(os.environ.get("PORT", "5000")))
