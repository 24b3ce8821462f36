// Command hello is step 1 of the tutorial: an Echo web server that answers
// "Hello, World!" on http://localhost:5000.
package main

import (
	"log"
	"net/http"

	"github.com/labstack/echo/v4"
)

// localhost keeps the server private to this machine while you try it out.
const addr = "localhost:5000"

func main() {
	e := newServer()
	log.Printf("serving on http://%s", addr)
	log.Fatal(e.Start(addr))
}

func newServer() *echo.Echo {
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.GET("/", hello)
	return e
}

func hello(c echo.Context) error {
	return c.String(http.StatusOK, "Hello, World!")
}
