package backend

import (
	"path/filepath"
	"testing"

	"github.com/sightline/sightline/analyzer/local"
	"github.com/sightline/sightline/analyzer/schedule"
)

// Schedule loads the local models it needs at once, so a missing one is a
// configuration error there; with LoadLater it leaves them to the first
// analysis (the app's window does not wait for them).
func TestScheduleLoadsModelsUnlessLater(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "no-such-model.onnx")
	tests := []struct {
		later   bool
		wantErr bool
	}{
		{later: false, wantErr: true},
		{later: true, wantErr: false},
	}
	for _, tt := range tests {
		loc := local.New(local.Options{YOLOXPath: missing})
		o, err := Schedule(Config{Mode: schedule.ModeLocal, LoadLater: tt.later}, loc)
		loc.Close()
		if (err != nil) != tt.wantErr {
			t.Errorf("LoadLater %v: error %v, want an error: %v", tt.later, err, tt.wantErr)
		}
		if err == nil && (o.Local == nil || len(o.Features) == 0) {
			t.Errorf("LoadLater %v: options without the local backend or features: %+v", tt.later, o)
		}
	}
}
