// Package cli implements Sightline's commands: it parses the command line,
// builds the pieces and hands over to them.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/sightline/sightline/analyzer"
	"github.com/sightline/sightline/internal/deps"
)

// Version is set at build time by `make build`.
var Version = "dev"

// Exit codes of ../shared/docs/interfaces.md.
const (
	exitOK     = 0
	exitFailed = 1 // at least one input failed
	exitUsage  = 2 // usage or configuration error
)

// usageError is a usage or configuration error: exit 2 with one line on stderr.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// failedError means some inputs failed: exit 1, the lines already say why.
var errSomeFailed = errors.New("some inputs failed")

// env carries the process's outside world so tests can run commands in-process.
type env struct {
	stdout, stderr io.Writer
	getenv         func(string) string
}

// Main runs the command line args (without the program name) and returns
// the exit code.
func Main(args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return run(ctx, env{stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv}, args)
}

func run(ctx context.Context, e env, args []string) int {
	cmd := "gui"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	commands := map[string]func(context.Context, env, []string) error{
		"gui":     cmdGUI,
		"run":     cmdRun,
		"analyze": cmdAnalyze,
		"ocr":     cmdOCR,
		"predict": cmdPredict,
		"bench":   cmdBench,
		"version": cmdVersion,
	}
	fn, ok := commands[cmd]
	if !ok {
		fmt.Fprintf(e.stderr, "sightline: unknown command %q (commands: gui, run, analyze, ocr, predict, bench, version)\n", cmd)
		return exitUsage
	}
	if err := refuseKeyFlags(args); err != nil {
		fmt.Fprintf(e.stderr, "sightline %s: %s\n", cmd, err)
		return exitUsage
	}
	if err := deps.CheckEnv(); err != nil {
		fmt.Fprintf(e.stderr, "sightline: %v\n", err)
		return exitUsage
	}
	err := fn(ctx, e, args)
	var ue usageError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.As(err, &ue):
		fmt.Fprintf(e.stderr, "sightline %s: %s\n", cmd, ue.msg)
		return exitUsage
	case errors.Is(err, errSomeFailed):
		return exitFailed
	default:
		fmt.Fprintf(e.stderr, "sightline %s: %s\n", cmd, oneLine(err.Error()))
		return exitFailed
	}
}

// parse parses flags that may come before, between or after the positional
// arguments (users write `analyze img.jpg --threshold 0.5`) and returns the
// positional ones.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	fs.SetOutput(io.Discard)
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usageError{err.Error()}
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// parseFeatures reads a comma-separated feature list in the service's names.
func parseFeatures(s string) (analyzer.Features, error) {
	if s == "" {
		return nil, nil
	}
	known := map[string]analyzer.Feature{}
	for _, f := range append(append([]analyzer.Feature{}, analyzer.AllFeatures...), analyzer.FeatureFaces) {
		known[strings.ToLower(string(f))] = f
	}
	var out analyzer.Features
	for _, name := range strings.Split(s, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		f, ok := known[strings.ToLower(name)]
		if !ok {
			return nil, usagef("unknown feature %q (features: caption,denseCaptions,tags,objects,people,smartCrops,read,faces)", name)
		}
		if !out.Has(f) {
			out = append(out, f)
		}
	}
	return out, nil
}

// parseRatios reads --smartcrops-aspect-ratios.
func parseRatios(s string) ([]float64, error) {
	if s == "" {
		return nil, nil
	}
	var out []float64
	for _, p := range strings.Split(s, ",") {
		v, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || !(v >= 0.75 && v <= 1.8) { // NaN fails both

			return nil, usagef("aspect ratio %q must be a number between 0.75 and 1.8", p)
		}
		out = append(out, v)
	}
	return out, nil
}

// oneLine keeps error messages to the single line the contract promises.
func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", " ")), " ")
}

// ms converts a duration to float milliseconds rounded to 0.1 ms.
func ms(d time.Duration) float64 {
	return float64(d.Round(100*time.Microsecond)) / float64(time.Millisecond)
}
