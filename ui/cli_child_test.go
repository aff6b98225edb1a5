package ui_test

import (
	"os"

	"github.com/sightline/sightline/internal/cli"
)

// cliChildEnv makes the test binary run the command line instead of the
// tests (a headless `run` publishing to the Fleet page's broker). It is
// checked when the package starts, before the app's own TestMain.
const cliChildEnv = "SIGHTLINE_TEST_CLI_CHILD"

func init() {
	if os.Getenv(cliChildEnv) != "" {
		os.Exit(cli.Main(os.Args[1:]))
	}
}
