// Sightline: real-time video analytics on the desktop and headless.
package main

import (
	"os"

	"github.com/sightline/sightline/internal/cli"
)

func main() { os.Exit(cli.Main(os.Args[1:])) }
