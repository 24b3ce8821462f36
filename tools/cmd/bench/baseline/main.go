// Command baseline is the floor under the benchmark's figures: a bare
// net/http server that does the step servers' work, answering
// "Hello, World!" on /, with nothing else in the way. Every Go web server,
// Echo included, stands on the same net/http.
package main

import (
	"io"
	"log"
	"net/http"
	"os"
)

func main() {
	addr := os.Getenv("LISTEN_ADDR")
	if addr == "" {
		addr = "127.0.0.1:5000"
	}
	// {$} matches / only, as Echo's route does; the Content-Type is the one
	// Echo's c.String sends, so both write the same response.
	http.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=UTF-8")
		io.WriteString(w, "Hello, World!")
	})
	log.Fatal(http.ListenAndServe(addr, nil))
}
