package cli

import (
	"context"
	"flag"
	"fmt"

	"github.com/sightline/sightline/internal/event"
	"github.com/sightline/sightline/internal/mqtt"
	"github.com/sightline/sightline/internal/plant"
	"github.com/sightline/sightline/internal/text"
)

// plantFlags are the run's outputs to the plant's systems.
type plantFlags struct {
	camera, mqtt, mqttCA, metricsAddr, otlpEndpoint string
}

func (f *plantFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.camera, "camera", "", "the camera's name in MQTT topics, metrics, clip names (default: from the source)")
	fs.StringVar(&f.mqtt, "mqtt", "", "publish events, counts and status to this broker: mqtt://host:1883 or mqtts://… (SIGHTLINE_MQTT_USERNAME/_PASSWORD)")
	fs.StringVar(&f.mqttCA, "mqtt-ca", "", "with mqtts://: also trust the CA certificates in this PEM file (a site CA)")
	fs.StringVar(&f.metricsAddr, "metrics-addr", "", "serve Prometheus metrics at http://HOST:PORT/metrics")
	fs.StringVar(&f.otlpEndpoint, "otlp-endpoint", "", "export metrics and a span per cloud call over OTLP/HTTP to this collector (http://host:4318)")
}

// config is the plant's outputs the flags ask for.
func (f *plantFlags) config(e env) plant.Config {
	user, pass := mqtt.EnvCredentials(e.getenv)
	return plant.Config{MQTT: f.mqtt, CAFile: f.mqttCA, Username: user, Password: pass, MetricsAddr: f.metricsAddr,
		OTLPEndpoint: f.otlpEndpoint, Version: Version}
}

// start starts them for the run's cameras; a setting that cannot be
// used is a usage error.
func (f *plantFlags) start(ctx context.Context, e env, outs *plant.Outputs, cams []*camera, bus *event.Bus) error {
	pc := make([]plant.Camera, len(cams))
	for i, c := range cams {
		pc[i] = plant.Camera{Name: c.name, P: c.p}
	}
	if err := outs.Start(ctx, f.config(e), pc, bus); err != nil {
		return usagef("%v", err) // the output and the setting are named
	}
	return nil
}

// stopPlant stops the outputs and says on stderr what the broker did not
// take, and why: a run must not end quietly with its events undelivered
// (they wait in the spool for the next run).
func stopPlant(e env, outs *plant.Outputs) {
	outs.Stop()
	for _, m := range outs.Status().MQTT {
		if m.Queued == 0 && m.Dropped == 0 {
			continue
		}
		why := ""
		if m.LastError != "" {
			why = " (" + text.OneLine(m.LastError, 160) + ")"
		}
		fmt.Fprintf(e.stderr, "sightline run: MQTT: %d events not delivered%s; they wait in the spool for the next run", m.Queued, why)
		if m.Dropped > 0 {
			fmt.Fprintf(e.stderr, ", %d lost past its bound", m.Dropped)
		}
		fmt.Fprintln(e.stderr)
	}
}
