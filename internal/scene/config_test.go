package scene

import (
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// contractExample is the scene of the contract, with an inspection point.
const contractExample = `{"tracking": {"classes": ["person", "bottle"], "lost_after_s": 1.0},
 "lines": [{"name": "gate", "points": [[0.1, 0.6], [0.9, 0.6]], "classes": ["car"], "anchor": "bottom_center"}],
 "zones": [{"name": "station", "polygon": [[0, 0], [1, 0], [1, 1], [0, 1]], "classes": ["person"], "anchor": "bottom_center"}],
 "rules": [{"name": "station empty", "zone": "station", "when": "empty_for", "seconds": 40, "cooldown_s": 60},
           {"name": "line stopped", "line": "gate", "when": "crossings_below", "count": 5, "seconds": 60},
           {"name": "caps failing", "point": "cap", "when": "inspection_fail", "count": 3}],
 "inspections": [{"name": "cap", "rect": [0.40, 0.10, 0.20, 0.30], "model": "models/cap-export", "pass": ["cap_ok"],
                  "threshold": 0.7, "mode": "continuous"},
                 {"name": "label", "polygon": [[0.1, 0.1], [0.3, 0.1], [0.2, 0.3]],
                  "model": {"project": "0b7e6a3c-5b8e-4a8e-9a57-1f2d3c4b5a69", "published_name": "labels"}, "pass": ["ok"]}]}`

func TestParseContractExample(t *testing.T) {
	cfg, err := Parse([]byte(contractExample))
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Lines[0].Points; got[0] != (Point{0.1, 0.6}) || got[1] != (Point{0.9, 0.6}) {
		t.Errorf("line points %v", got)
	}
	if cfg.Rules[0].Cooldown() != 60 || cfg.Rules[1].Cooldown() != DefaultCooldownS {
		t.Errorf("cooldowns %v, %v", cfg.Rules[0].Cooldown(), cfg.Rules[1].Cooldown())
	}
	if m := cfg.Inspections[1].Model; m.Project == "" || m.PublishedName != "labels" || m.Dir != "" {
		t.Errorf("cloud model %+v", m)
	}
	if r := cfg.Inspections[0].Region(); len(r) != 4 || math.Abs(r[2].X-0.6) > 1e-9 || math.Abs(r[2].Y-0.4) > 1e-9 {
		t.Errorf("rect region %v", r)
	}
}

func TestSaveLoadRoundTrip(t *testing.T) {
	cfg, err := Parse([]byte(contractExample))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "scene.json")
	if err := Save(path, cfg); err != nil {
		t.Fatal(err)
	}
	back, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, cfg) {
		t.Errorf("round trip changed the scene:\n%+v\n%+v", back, cfg)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("Save left %d files behind, want only the scene", len(entries))
	}
}

// Save never replaces a good file with an invalid scene, nor leaves a
// half-written one.
func TestSaveRefusesInvalid(t *testing.T) {
	path := filepath.Join(t.TempDir(), "scene.json")
	if err := os.WriteFile(path, []byte(contractExample), 0o644); err != nil {
		t.Fatal(err)
	}
	bad := Config{Zones: []Zone{{Name: "z", Polygon: []Point{{0, 0}, {1, 1}}}}}
	if err := Save(path, bad); err == nil {
		t.Fatal("saved a zone with 2 points")
	}
	if b, _ := os.ReadFile(path); string(b) != contractExample {
		t.Error("the good file was touched")
	}
	if err := Save(filepath.Join(t.TempDir(), "missing", "scene.json"), Config{}); err == nil {
		t.Error("saved into a folder that does not exist")
	}
}

func TestParseErrors(t *testing.T) {
	zone := `{"name": "station", "polygon": [[0, 0], [1, 0], [1, 1]]}`
	line := `{"name": "gate", "points": [[0.1, 0.6], [0.9, 0.6]]}`
	scene := func(rules string) string {
		return `{"zones": [` + zone + `], "lines": [` + line + `], "rules": [` + rules + `]}`
	}
	tests := []struct{ name, json, want string }{
		{"empty file", ``, "empty file"},
		{"not JSON", `{"zones": [}`, "not valid JSON (at byte 12)"},
		{"trailing data", `{} {}`, "unexpected data after"},
		{"unknown field", `{"tracking": {"lost_after": 2}}`, `unknown field "lost_after"`},
		{"wrong type", `{"tracking": {"lost_after_s": "2"}}`, "tracking.lost_after_s: want a number, got string"},
		{"point with 3 numbers", `{"lines": [{"name": "gate", "points": [[0.1, 0.6, 0], [0.9, 0.6]]}]}`, "lines.points: want a point [x, y], got [0.1, 0.6, 0]"},
		{"negative lost_after_s", `{"tracking": {"lost_after_s": -1}}`, "tracking: lost_after_s must be from 0 to 3600, got -1"},
		{"lost_after_s of a day", `{"tracking": {"lost_after_s": 86400}}`, "tracking: lost_after_s must be from 0 to 3600"},
		{"empty class", `{"tracking": {"classes": ["person", " "]}}`, "tracking: classes[1] is empty"},
		{"line without name", `{"lines": [{"points": [[0, 0], [1, 1]]}]}`, "lines[0]: name is required"},
		{"line with 3 points", `{"lines": [{"name": "gate", "points": [[0, 0], [1, 1], [0, 1]]}]}`, `lines[0] "gate": points needs 2 points`},
		{"line outside the frame", `{"lines": [{"name": "gate", "points": [[0, 0], [1.2, 1]]}]}`, `lines[0] "gate": points[1] [1.2, 1] is outside the frame`},
		{"line of one point", `{"lines": [{"name": "gate", "points": [[0.5, 0.5], [0.5, 0.5]]}]}`, "same point"},
		{"two lines with one name", `{"lines": [` + line + `,` + line + `]}`, `lines[1] "gate": name used twice`},
		{"unknown anchor", `{"lines": [{"name": "gate", "points": [[0, 0], [1, 1]], "anchor": "top"}]}`, `anchor "top" is not bottom_center or center`},
		{"zone with 2 points", `{"zones": [{"name": "station", "polygon": [[0, 0], [1, 1]]}]}`, `zones[0] "station": polygon needs at least 3 points, got 2`},
		{"flat zone", `{"zones": [{"name": "station", "polygon": [[0, 0], [0.5, 0.5], [1, 1]]}]}`, "encloses no area"},
		{"zone outside the frame", `{"zones": [{"name": "station", "polygon": [[0, 0], [1, -0.1], [1, 1]]}]}`, "polygon[1] [1, -0.1] is outside the frame"},
		{"unknown when", scene(`{"name": "r", "when": "sometimes"}`), `rules[0] "r": unknown when "sometimes": want occupancy_above, empty_for`},
		{"missing zone", scene(`{"name": "r", "when": "empty_for", "zone": "dock", "seconds": 5}`), `rules[0] "r": zone "dock" does not exist`},
		{"zone not given", scene(`{"name": "r", "when": "empty_for", "seconds": 5}`), "empty_for needs a zone"},
		{"line on a zone rule", scene(`{"name": "r", "when": "empty_for", "zone": "station", "line": "gate", "seconds": 5}`), "empty_for takes no line"},
		{"no seconds", scene(`{"name": "r", "when": "dwell_above", "zone": "station"}`), "dwell_above needs seconds"},
		{"count on a dwell rule", scene(`{"name": "r", "when": "dwell_above", "zone": "station", "seconds": 5, "count": 2}`), "dwell_above takes no count"},
		{"missing line", scene(`{"name": "r", "when": "crossings_below", "line": "door", "count": 1, "seconds": 5}`), `line "door" does not exist`},
		{"crossings below 0", scene(`{"name": "r", "when": "crossings_below", "line": "gate", "seconds": 5}`), "needs a count of at least 1"},
		{"negative count", scene(`{"name": "r", "when": "occupancy_above", "zone": "station", "count": -1}`), "count must be from 0 to 1000000, got -1"},
		{"huge count", scene(`{"name": "r", "when": "crossings_below", "line": "gate", "count": 1e12, "seconds": 5}`), "rules.count: want a whole number, got number 1e12"},
		{"count over the bound", scene(`{"name": "r", "when": "crossings_below", "line": "gate", "count": 2000000, "seconds": 5}`), "count must be from 0 to 1000000"},
		{"seconds over the bound", scene(`{"name": "r", "when": "empty_for", "zone": "station", "seconds": 1e12}`), "empty_for needs seconds, more than 0 and at most 1e+07"},
		{"negative cooldown", scene(`{"name": "r", "when": "occupancy_above", "zone": "station", "cooldown_s": -5}`), "cooldown_s must be positive"},
		{"missing point", scene(`{"name": "r", "when": "inspection_fail", "point": "cap"}`), `point "cap" does not exist`},
		{"percent over 100", `{"inspections": [{"name": "cap", "rect": [0, 0, 1, 1], "model": "m", "pass": ["ok"]}],
			"rules": [{"name": "r", "when": "yield_below", "point": "cap", "percent": 120, "seconds": 60}]}`, "percent from 0 to 100, got 120"},
		{"rule without name", scene(`{"when": "occupancy_above", "zone": "station"}`), "rules[0]: name is required"},
		{"inspection without model", `{"inspections": [{"name": "cap", "rect": [0, 0, 1, 1], "pass": ["ok"]}]}`, `inspections[0] "cap": model is required`},
		{"inspection model of the wrong shape", `{"inspections": [{"name": "cap", "rect": [0, 0, 1, 1], "model": 3, "pass": ["ok"]}]}`, `inspections.model: want a folder or {"project": …, "published_name": …}, got 3`},
		{"inspection rect of 3", `{"inspections": [{"name": "cap", "rect": [0, 0, 1], "model": "m", "pass": ["ok"]}]}`, "rect needs [x, y, w, h], got 3 numbers"},
		{"inspection rect off the frame", `{"inspections": [{"name": "cap", "rect": [0.5, 0, 0.6, 1], "model": "m", "pass": ["ok"]}]}`, "rect [0.5, 0, 0.6, 1] is outside the frame"},
		{"inspection rect and polygon", `{"inspections": [{"name": "cap", "rect": [0, 0, 1, 1], "polygon": [[0, 0], [1, 0], [1, 1]], "model": "m", "pass": ["ok"]}]}`, "rect or polygon, not both"},
		{"inspection without pass", `{"inspections": [{"name": "cap", "rect": [0, 0, 1, 1], "model": "m"}]}`, "pass needs at least one tag"},
		{"inspection mode", `{"inspections": [{"name": "cap", "rect": [0, 0, 1, 1], "model": "m", "pass": ["ok"], "mode": "sometimes"}]}`, `mode "sometimes" is not continuous or per_track`},
		{"cloud model without name", `{"inspections": [{"name": "cap", "rect": [0, 0, 1, 1], "model": {"project": "p"}, "pass": ["ok"]}]}`, "published_name is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.json))
			if err == nil {
				t.Fatalf("no error, want %q", tt.want)
			}
			if testing.Verbose() {
				t.Log(err)
			}
			if !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q, want one line containing %q", err, tt.want)
			}
		})
	}
}

func TestLoadNamesTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "scene.json")
	os.WriteFile(path, []byte(`{"zones": [{"name": "z", "polygon": [[0, 0], [1, 1]]}]}`), 0o644)
	if _, err := Load(path); err == nil || !strings.HasPrefix(err.Error(), path+": zones[0]") {
		t.Errorf("error %v, want it to start with the path and the field", err)
	}
	if _, err := Load(path + ".missing"); err == nil {
		t.Error("a missing file loaded")
	}
}
