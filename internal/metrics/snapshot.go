package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/sightline/sightline/internal/mqtt"
)

// Snapshot is what the source, the scheduler and the outputs count, as the
// pipeline reads it at scrape time: running totals (never reset during a
// run) and current rates.
type Snapshot struct {
	Camera         string // "" for the run's camera
	FramesRead     int64
	FramesAnalyzed int64
	FramesDropped  int64 // skipped because analysis was busy (live sources)
	FramesShown    int64
	Reconnects     int64
	CloudCalls     int64 // retries and probes included
	CloudErrors    int64
	CostUSD        float64
	DisplayFPS     float64      // frames the app put on screen a second; 0 headless
	MQTT           *mqtt.Status // nil without --mqtt
}

// stat is one Snapshot figure as a metric.
type stat struct {
	desc  *prometheus.Desc
	kind  prometheus.ValueType
	value func(Snapshot) float64
}

func newStat(name, help string, kind prometheus.ValueType, value func(Snapshot) float64) stat {
	return stat{prometheus.NewDesc(name, help, []string{"camera"}, nil), kind, value}
}

var stats = []stat{
	newStat("sightline_frames_read_total", "Frames read from the source.", prometheus.CounterValue, func(s Snapshot) float64 { return float64(s.FramesRead) }),
	newStat("sightline_frames_analyzed_total", "Frames analysed.", prometheus.CounterValue, func(s Snapshot) float64 { return float64(s.FramesAnalyzed) }),
	newStat("sightline_frames_dropped_total", "Frames skipped because analysis was busy.", prometheus.CounterValue, func(s Snapshot) float64 { return float64(s.FramesDropped) }),
	newStat("sightline_frames_shown_total", "Frames drawn (on screen or into the recording).", prometheus.CounterValue, func(s Snapshot) float64 { return float64(s.FramesShown) }),
	newStat("sightline_source_reconnects_total", "Reconnections of a live source.", prometheus.CounterValue, func(s Snapshot) float64 { return float64(s.Reconnects) }),
	newStat("sightline_cloud_calls_total", "Calls to the cloud, retries and probes included.", prometheus.CounterValue, func(s Snapshot) float64 { return float64(s.CloudCalls) }),
	newStat("sightline_cloud_errors_total", "Cloud calls that failed.", prometheus.CounterValue, func(s Snapshot) float64 { return float64(s.CloudErrors) }),
	newStat("sightline_cloud_cost_usd_total", "What the cloud calls cost, in US dollars at list price.", prometheus.CounterValue, func(s Snapshot) float64 { return s.CostUSD }),
	newStat("sightline_display_fps", "Frames the app put on screen a second.", prometheus.GaugeValue, func(s Snapshot) float64 { return s.DisplayFPS }),
}

// mqttStats are the MQTT sink's figures, present with --mqtt.
var mqttStats = []stat{
	newStat("sightline_mqtt_sent_total", "Events given to the MQTT sink.", prometheus.CounterValue, func(s Snapshot) float64 { return float64(s.MQTT.Sent) }),
	newStat("sightline_mqtt_delivered_total", "Events the broker acknowledged.", prometheus.CounterValue, func(s Snapshot) float64 { return float64(s.MQTT.Delivered) }),
	newStat("sightline_mqtt_spilled_total", "Events written to the spool file because memory was full.", prometheus.CounterValue, func(s Snapshot) float64 { return float64(s.MQTT.Spilled) }),
	newStat("sightline_mqtt_dropped_total", "Events lost because the spool was full or failed.", prometheus.CounterValue, func(s Snapshot) float64 { return float64(s.MQTT.Dropped) }),
	newStat("sightline_mqtt_rejected_total", "Events the broker refused for good.", prometheus.CounterValue, func(s Snapshot) float64 { return float64(s.MQTT.Rejected) }),
	newStat("sightline_mqtt_retries_total", "Publishes tried again after a failure.", prometheus.CounterValue, func(s Snapshot) float64 { return float64(s.MQTT.Retries) }),
	newStat("sightline_mqtt_queued", "Events waiting for the broker now, in memory or the spool.", prometheus.GaugeValue, func(s Snapshot) float64 { return float64(s.MQTT.Queued) }),
	newStat("sightline_mqtt_connected", "1 while connected to the broker.", prometheus.GaugeValue, func(s Snapshot) float64 {
		if s.MQTT.Connected {
			return 1
		}
		return 0
	}),
}

// snapshotCollector turns the snapshots into metrics at every scrape.
type snapshotCollector struct {
	camera string
	stats  func() []Snapshot
}

// Describe declares every metric the collector may send.
func (c snapshotCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, s := range append(append([]stat(nil), stats...), mqttStats...) {
		ch <- s.desc
	}
}

// Collect reads the snapshots.
func (c snapshotCollector) Collect(ch chan<- prometheus.Metric) {
	for _, snap := range c.stats() {
		cam := snap.Camera
		if cam == "" {
			cam = c.camera
		}
		list := stats
		if snap.MQTT != nil {
			list = append(append([]stat(nil), stats...), mqttStats...)
		}
		for _, s := range list {
			ch <- prometheus.MustNewConstMetric(s.desc, s.kind, s.value(snap), cam)
		}
	}
}
