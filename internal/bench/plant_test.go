package bench

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/sightline/sightline/internal/deps"
	"github.com/sightline/sightline/internal/mqtt/mqtttest"
)

// A short run with the three outputs against a real mosquitto: both rates
// are there, every event published reached the broker, the metrics were
// served and the OTLP receiver got the exporter's last export; the ratio
// says whether the goal holds.
func TestPlantOutputs(t *testing.T) {
	b, _ := testBench(t, 60)
	if err := plantOutputs(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	rep := b.rep
	within(t, figureNamed(t, rep, "pipeline with a counting line, no outputs"), 1, 1000)
	within(t, figureNamed(t, rep, "same, MQTT + Prometheus (scraped 1/s) + OTLP"), 1, 1000)
	sent := figureNamed(t, rep, "MQTT events published a run")
	within(t, sent, 60, 1e6) // an analysis event a frame, at least
	within(t, figureNamed(t, rep, "MQTT events acknowledged by mosquitto a run"), sent.Median, sent.Median)
	within(t, figureNamed(t, rep, "MQTT events dropped or refused a run"), 0, 0)
	within(t, figureNamed(t, rep, "Prometheus scrapes failed a run"), 0, 0)
	within(t, figureNamed(t, rep, "OTLP exports received, all runs"), 1, 1e6)
	if r := ratioNamed(t, rep, "pipeline with the three outputs / without"); r.Met == nil || r.Value < 0.2 || r.Value > 5 {
		t.Errorf("ratio %+v", r)
	}
}

// Without mosquitto the bench goes on and says why the rows are missing.
func TestPlantWithoutMosquitto(t *testing.T) {
	old := mqtttest.Binary
	mqtttest.Binary = "sightline-no-such-mosquitto"
	t.Cleanup(func() { mqtttest.Binary = old })
	var progress bytes.Buffer
	rep, err := Run(context.Background(), Config{Source: deps.DemoVideo, Only: []string{"plant"}}, &progress)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(progress.String(), "the plant figures are missing: mosquitto is not installed (scripts/setup.sh installs it)") {
		t.Errorf("progress: %s", progress.String())
	}
	if len(rep.Ratios) != 0 || len(rep.Figures) != 1 { // peak RSS
		t.Errorf("report %+v", rep)
	}
}
