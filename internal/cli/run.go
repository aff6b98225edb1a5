package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/sightline/sightline/analyzer"
	"github.com/sightline/sightline/video"
)

type runFlags struct {
	source, backend, features, events string
	threshold, fpsLimit               float64
	maxFrames                         int64
	duration, openTimeout             time.Duration
	realtime                          bool
	out, snapshotDir                  string
	retries                           int
}

func cmdRun(ctx context.Context, e env, args []string) error {
	var f runFlags
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.StringVar(&f.source, "source", "", "file, file://, rtsp://, rtsps://, http(s):// or webcam:N")
	fs.StringVar(&f.backend, "backend", "auto", "local, azure or auto")
	fs.StringVar(&f.features, "features", "", "comma-separated features (default objects,people,tags; the cloud adds caption)")
	fs.Float64Var(&f.threshold, "threshold", 0, "minimum confidence of objects, people and tags (default 0.25 locally)")
	fs.Float64Var(&f.fpsLimit, "fps-limit", 0, "analyses per second at most (0: as fast as the analyzer goes)")
	fs.Int64Var(&f.maxFrames, "max-frames", 0, "stop after this many frames read (0: no limit)")
	fs.DurationVar(&f.duration, "duration", 0, "stop after this long (0: no limit)")
	fs.BoolVar(&f.realtime, "realtime", false, "pace files at their native frame rate")
	fs.DurationVar(&f.openTimeout, "open-timeout", 20*time.Second, "give up on a source that delivers no frame for this long")
	fs.StringVar(&f.events, "events", "", "write JSON events to FILE, or - for stdout")
	fs.StringVar(&f.out, "out", "", "record the annotated video to FILE.mp4")
	fs.StringVar(&f.snapshotDir, "snapshot-dir", "", "folder for PNG snapshots")
	fs.IntVar(&f.retries, "retries", 3, "retries of a failed cloud call")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("unexpected argument %q (the source is given with --source)", pos[0])
	}
	if f.source == "" {
		return usagef("--source is required")
	}
	req := analyzer.Request{Options: analyzer.Options{Threshold: f.threshold}}
	if req.Features, err = parseFeatures(f.features); err != nil {
		return err
	}

	backend := f.backend
	reason := "--backend " + f.backend
	if backend == "auto" {
		backend, reason = "local", "auto: VISION_ENDPOINT/VISION_KEY not set"
		if azureConfigured(e) {
			backend, reason = "azure", "auto: cloud configured"
		}
	}
	a, closeFn, err := newAnalyzer(e, backend, f.retries)
	if err != nil {
		return err
	}
	defer closeFn()
	if req.Features == nil {
		req.Features = analyzer.Features{analyzer.FeatureObjects, analyzer.FeaturePeople, analyzer.FeatureTags}
		if backend == "azure" {
			req.Features = append(req.Features, analyzer.FeatureCaption)
		}
	}
	for _, ft := range req.Features {
		if !a.Supports(ft) {
			return usagef("feature %q is not available with the %s backend", ft, backend)
		}
	}

	var evw io.Writer
	switch f.events {
	case "":
	case "-":
		evw = e.stdout
	default:
		file, err := os.Create(f.events)
		if err != nil {
			return usagef("events file: %v", err)
		}
		defer file.Close()
		evw = file
	}
	start := time.Now()
	ev := newEvents(evw, start)
	if ev == nil {
		// Without --events the summary still goes to stdout.
		ev = newEvents(e.stdout, start)
		ev.quiet = true
	}
	if f.duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, f.duration)
		defer cancel()
	}
	ev.backend(backend, reason)
	return runPipeline(ctx, f, a, req, ev)
}

// runPipeline reads, analyses and reports until the source ends, the limits
// are reached or ctx is cancelled; the summary is always written last.
func runPipeline(ctx context.Context, f runFlags, a analyzer.Analyzer, req analyzer.Request, ev *events) (err error) {
	var (
		sum      summaryEvent
		lat      analyzer.Meter
		lastPTS  = time.Duration(-1)
		lastWall time.Time
		src      video.Source
	)
	defer func() {
		elapsed := time.Since(ev.start).Seconds()
		if src != nil {
			st := src.Stats()
			sum.Reconnects, sum.Dropped = st.Reconnects, st.Dropped
			src.Close()
		}
		if ctx.Err() != nil && !errors.Is(err, io.EOF) {
			ev.status(string(video.StateStopped), "interrupted")
			err = nil
		}
		sum.Type, sum.TMS = "summary", ev.now()
		if elapsed > 0 {
			sum.ReadFPS = round1(float64(sum.FramesRead) / elapsed)
			sum.AnalyzedFPS = round1(float64(sum.FramesAnalyzed) / elapsed)
		}
		sum.LatencyP50, sum.LatencyP95 = ms(lat.Percentile(50)), ms(lat.Percentile(95))
		ev.summary(sum)
	}()

	openCtx, cancelOpen := context.WithTimeout(ctx, f.openTimeout)
	defer cancelOpen()
	opened, err := video.Open(openCtx, f.source, video.Options{
		OpenTimeout: f.openTimeout,
		Realtime:    f.realtime,
		OnStatus:    func(s video.Status) { ev.status(string(s.State), s.Detail) },
	})
	if err != nil {
		return err
	}
	src = opened
	live := src.Info().Live
	for f.maxFrames == 0 || sum.FramesRead < f.maxFrames {
		frame, err := src.Next(ctx)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		sum.FramesRead++
		if analysisDue(f.fpsLimit, live || f.realtime, frame, &lastPTS, &lastWall) {
			t0 := time.Now()
			res, aerr := a.Analyze(ctx, analyzer.Image{Mat: frame.Mat}, req)
			d := time.Since(t0)
			if aerr != nil {
				ev.status("error", fmt.Sprintf("analysis of frame %d failed: %v", frame.Seq, aerr))
			} else {
				lat.Add(d)
				sum.FramesAnalyzed++
				if a.Name() != "local" {
					sum.CloudCalls++
				}
				ev.analysis(frame, a.Name(), d, res)
			}
		}
		sum.FramesShown++
		frame.Release()
	}
	return nil
}

// analysisDue applies --fps-limit: by presentation time for files read as
// fast as possible (so the result does not depend on the machine), by the
// wall clock for live and real-time sources.
func analysisDue(limit float64, wall bool, fr *video.Frame, lastPTS *time.Duration, lastWall *time.Time) bool {
	if limit <= 0 {
		return true
	}
	interval := time.Duration(float64(time.Second) / limit)
	if wall {
		if !lastWall.IsZero() && fr.Arrived.Sub(*lastWall) < interval {
			return false
		}
		*lastWall = fr.Arrived
		return true
	}
	if *lastPTS >= 0 && fr.PTS-*lastPTS < interval {
		return false
	}
	*lastPTS = fr.PTS
	return true
}

func round1(v float64) float64 { return float64(int64(v*10+0.5)) / 10 }

