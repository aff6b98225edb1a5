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

	"github.com/sightline/sightline/internal/text"

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

// helpError is -h or --help: the command's flags go to stdout, exit 0.
type helpError struct{ flags string }

func (helpError) Error() string { return "help requested" }

func isHelp(arg string) bool {
	switch arg {
	case "help", "-h", "-help", "--help":
		return true
	}
	return false
}

// command is one of Sightline's commands: its usage line (as in
// ../shared/docs/interfaces.md), what it does, and the code that runs it.
type command struct {
	name, usage, about string
	run                func(context.Context, env, []string) error
}

// commands, in the order help lists them; the first is the default.
var commands = []command{
	{"gui", "sightline [gui] [flags]", "the desktop app, on a webcam if one opens, else the demo video (the default)", cmdGUI},
	{"run", "sightline run --source URI [flags]", "analyse a video file, RTSP/HTTP stream or webcam headless, writing JSON events", cmdRun},
	{"analyze", "sightline analyze [flags] INPUT...", "analyse images (files or http(s) URLs): caption, tags, objects, people, smart crops, text", cmdAnalyze},
	{"ocr", "sightline ocr [flags] INPUT...", "read the text of images", cmdOCR},
	{"predict", "sightline predict [flags] (--project UUID --published-name NAME | --model DIR) INPUT...", "Custom Vision prediction with a cloud project or a local ONNX export", cmdPredict},
	{"eval", "sightline eval --dataset coco.json --images DIR [flags]", "score a detector against labelled images: COCO AP and each class's best threshold", cmdEval},
	{"train", "sightline train --dataset coco.json --images DIR --project NAME [flags]", "train a Custom Vision model on labelled images; publish it, export it for local use", cmdTrain},
	{"document", "sightline document [--backend azure|local] [--model prebuilt-invoice|prebuilt-receipt|prebuilt-read|prebuilt-layout|ID] INPUT...", "fields of invoices, receipts and forms (Document Intelligence, or local rules over OCR)", cmdDocument},
	{"bench", "sightline bench [flags]", "measure decoding, the models, the pipeline and the GUI side by side", cmdBench},
	{"version", "sightline version", "versions of Sightline and its libraries, as JSON", cmdVersion},
}

func lookup(name string) (command, bool) {
	for _, c := range commands {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

// overview is the program's help: the commands and where keys come from.
func overview() string {
	var b strings.Builder
	b.WriteString("Sightline: real-time video analytics with Azure AI Vision and local models.\n\n")
	b.WriteString("usage: sightline [COMMAND] [flags] [args]\n\ncommands:\n")
	for _, c := range commands {
		fmt.Fprintf(&b, "  %-8s %s\n", c.name, c.about)
	}
	b.WriteString(`
'sightline help COMMAND' or 'sightline COMMAND --help' lists its flags.
Azure: VISION_ENDPOINT and VISION_KEY; Custom Vision:
CUSTOM_VISION_PREDICTION_ENDPOINT and CUSTOM_VISION_PREDICTION_KEY;
training: CUSTOM_VISION_TRAINING_ENDPOINT and CUSTOM_VISION_TRAINING_KEY;
Document Intelligence: DOCUMENT_INTELLIGENCE_ENDPOINT and
DOCUMENT_INTELLIGENCE_KEY; models: SIGHTLINE_MODELS. Keys are read from the
environment only.
`)
	return b.String()
}

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
	// A closed terminal or SSH session (SIGHUP) ends a run as Ctrl-C does:
	// summary written, recording finalised.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	return run(ctx, env{stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv}, args)
}

func run(ctx context.Context, e env, args []string) int {
	if len(args) > 0 && isHelp(args[0]) {
		named := false
		if len(args) > 1 {
			_, named = lookup(args[1])
		}
		if !named {
			fmt.Fprint(e.stdout, overview())
			return exitOK
		}
		args = []string{args[1], "--help"} // `sightline help run`
	}
	cmd := commands[0].name
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	c, ok := lookup(cmd)
	if !ok {
		names := make([]string, len(commands))
		for i, c := range commands {
			names[i] = c.name
		}
		fmt.Fprintf(e.stderr, "sightline: unknown command %q (commands: %s)\n", cmd, strings.Join(names, ", "))
		return exitUsage
	}
	if err := refuseKeyFlags(cmd, args); err != nil {
		fmt.Fprintf(e.stderr, "sightline %s: %s\n", cmd, err)
		return exitUsage
	}
	if err := deps.CheckEnv(); err != nil {
		fmt.Fprintf(e.stderr, "sightline: %v\n", err)
		return exitUsage
	}
	err := c.run(ctx, e, args)
	var ue usageError
	var he helpError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &he):
		fmt.Fprintf(e.stdout, "usage: %s\n  %s.\n\nflags:\n%s", c.usage, c.about, he.flags)
		return exitOK
	case errors.As(err, &ue):
		fmt.Fprintf(e.stderr, "sightline %s: %s\n", cmd, ue.msg)
		return exitUsage
	case errors.Is(err, errSomeFailed):
		return exitFailed
	default:
		fmt.Fprintf(e.stderr, "sightline %s: %s\n", cmd, text.OneLine(err.Error(), 0))
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
				var b strings.Builder
				fs.SetOutput(&b)
				fs.PrintDefaults()
				return nil, helpError{b.String()}
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

// ms converts a duration to float milliseconds rounded to 0.1 ms.
func ms(d time.Duration) float64 {
	return float64(d.Round(100*time.Microsecond)) / float64(time.Millisecond)
}
