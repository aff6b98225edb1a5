// Sightline: real-time video analytics on the desktop and headless.
package main

import (
	"os"

	"github.com/sightline/sightline/internal/cli"
	_ "github.com/sightline/sightline/internal/locale" // before Fyne reads the locale
)

func main() { os.Exit(cli.Main(os.Args[1:])) }
