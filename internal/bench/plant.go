package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/sightline/sightline/analyzer/local"
	"github.com/sightline/sightline/internal/backend"
	"github.com/sightline/sightline/internal/clock"
	"github.com/sightline/sightline/internal/event"
	"github.com/sightline/sightline/internal/mqtt/mqtttest"
	"github.com/sightline/sightline/internal/pipeline"
	"github.com/sightline/sightline/internal/plant"
	"github.com/sightline/sightline/internal/scene"
)

// walkway is a counting line across the demo video's walkway, where
// people cross (the scene tests count them), so line events flow.
func walkway() *scene.Config {
	return &scene.Config{Tracking: scene.Tracking{Classes: []string{"person"}},
		Lines: []scene.Line{{Name: "walkway", Points: []scene.Point{{X: 0.365, Y: 0.29}, {X: 0.365, Y: 0.60}}}}}
}

// plantTally is what the outputs carried over a section's runs.
type plantTally struct {
	mqttSent, mqttDelivered, mqttLost []float64
	scrapes, scrapeErrors             []float64
	otlpExports                       atomic.Int64
}

// plantOutputs measures the pipeline as `run` builds it on a file with a
// counting line, with MQTT (to a mosquitto started here), Prometheus
// metrics (scraped once a second) and OTLP/HTTP (to a local receiver) all
// on, against the same pipeline without them, alternating.
func plantOutputs(ctx context.Context, b *bench) error {
	brokerURL, stopBroker, err := startMosquitto()
	if err != nil {
		return err
	}
	defer stopBroker()
	var tally plantTally
	collector := httptest.NewServer(otlpReceiver(&tally.otlpExports))
	defer collector.Close()
	be, err := backend.Build(localDetection(local.BatchOptions()))
	if err != nil {
		return err
	}
	defer be.Close()
	bare := fileRun{source: b.cfg.Source, frames: b.cfg.Frames, opts: be.Schedule(), scene: walkway()}
	full := bare
	cfg := plant.Config{MQTT: brokerURL, MetricsAddr: "127.0.0.1:0", OTLPEndpoint: collector.URL, Version: "bench"}
	full.outputs = func(ctx context.Context, p *pipeline.Pipeline, bus *event.Bus) (func(), error) {
		return startPlant(ctx, cfg, p, bus, &tally)
	}
	var without, with []float64
	for i := range b.cfg.Repeats {
		runs := []struct {
			r   fileRun
			fps *[]float64
		}{{bare, &without}, {full, &with}}
		if i%2 == 1 { // neither side always goes first
			runs[0], runs[1] = runs[1], runs[0]
		}
		for _, x := range runs {
			fps, err := x.r.fps(ctx)
			if err != nil {
				return err
			}
			*x.fps = append(*x.fps, fps)
		}
	}
	rep := b.rep
	fw := rep.figure("pipeline with a counting line, no outputs", "fps", without)
	ff := rep.figure("same, MQTT + Prometheus (scraped 1/s) + OTLP", "fps", with)
	rep.figure("MQTT events published a run", "events", tally.mqttSent)
	rep.figure("MQTT events acknowledged by mosquitto a run", "events", tally.mqttDelivered)
	rep.figure("MQTT events dropped or refused a run", "events", tally.mqttLost)
	rep.figure("Prometheus scrapes answered a run", "scrapes", tally.scrapes)
	rep.figure("Prometheus scrapes failed a run", "scrapes", tally.scrapeErrors)
	rep.figure("OTLP exports received, all runs", "exports", []float64{float64(tally.otlpExports.Load())})
	rep.ratio("pipeline with the three outputs / without", ff.Median/fw.Median, 0.97, "≥ 0.97")
	return nil
}

// startPlant starts the outputs for p as `run` does, and a scraper of
// their /metrics; stop ends both and adds what they carried to tally.
func startPlant(ctx context.Context, cfg plant.Config, p *pipeline.Pipeline, bus *event.Bus, tally *plantTally) (stop func(), err error) {
	outs := &plant.Outputs{}
	if err := outs.Start(ctx, cfg, []plant.Camera{{Name: "bench", P: p}}, bus); err != nil {
		return nil, err
	}
	scrapeCtx, cancel := context.WithCancel(ctx)
	scraped := make(chan [2]int, 1)
	go func() { scraped <- scrape(scrapeCtx, "http://"+outs.Status().MetricsAddr+"/metrics") }()
	return func() {
		cancel()
		n := <-scraped
		outs.Stop()
		st := outs.Status().MQTT[0]
		tally.mqttSent = append(tally.mqttSent, float64(st.Sent))
		tally.mqttDelivered = append(tally.mqttDelivered, float64(st.Delivered))
		tally.mqttLost = append(tally.mqttLost, float64(st.Dropped+st.Rejected))
		tally.scrapes, tally.scrapeErrors = append(tally.scrapes, float64(n[0])), append(tally.scrapeErrors, float64(n[1]))
	}, nil
}

// scrape reads url once a second, as Prometheus would, until ctx ends,
// and returns the scrapes answered and failed.
func scrape(ctx context.Context, url string) (n [2]int) {
	client := &http.Client{Timeout: 5 * time.Second}
	clk := clock.Real{}
	for clk.Sleep(ctx, time.Second) == nil {
		resp, err := client.Get(url)
		if err == nil {
			_, err = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				err = errors.New(resp.Status)
			}
		}
		if err != nil {
			n[1]++
		} else {
			n[0]++
		}
	}
	return n
}

// otlpReceiver accepts OTLP/HTTP exports of metrics and traces, counting
// them, as a collector would (an empty protobuf answer is a full success).
func otlpReceiver(exports *atomic.Int64) http.Handler {
	mux := http.NewServeMux()
	for _, path := range []string{"/v1/metrics", "/v1/traces"} {
		mux.HandleFunc("POST "+path, func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			exports.Add(1)
			w.Header().Set("Content-Type", "application/x-protobuf")
			w.WriteHeader(http.StatusOK)
		})
	}
	return mux
}

// startMosquitto runs an anonymous broker without persistence on a free
// loopback port for the section; stop ends it and removes its folder.
func startMosquitto() (url string, stop func(), err error) {
	port, err := freePort()
	if err != nil {
		return "", nil, err
	}
	dir, err := os.MkdirTemp("", "sightline-bench-mqtt-")
	if err != nil {
		return "", nil, err
	}
	m, err := func() (*mqtttest.Mosquitto, error) {
		if _, err := mqtttest.WriteConf(dir, "allow_anonymous true", "persistence false", fmt.Sprintf("listener %d 127.0.0.1", port)); err != nil {
			return nil, err
		}
		return mqtttest.RunMosquitto(dir, port)
	}()
	if err != nil {
		os.RemoveAll(dir)
		return "", nil, err
	}
	return fmt.Sprintf("mqtt://127.0.0.1:%d", port), func() {
		m.Stop(syscall.SIGKILL)
		os.RemoveAll(dir)
	}, nil
}

// freePort is a loopback TCP port nobody listens on now.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
