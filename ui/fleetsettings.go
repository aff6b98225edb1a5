package ui

import (
	"fmt"

	"fyne.io/fyne/v2/widget"

	"github.com/sightline/sightline/internal/mqtt"
)

// The broker's credentials live in the key store under the names of the
// environment variables `run --mqtt` reads, which win over it.
const (
	keyBrokerUser     = mqtt.EnvUsername
	keyBrokerPassword = mqtt.EnvPassword
)

// fleetSettings is the Settings section of the broker the Fleet page
// follows.
type fleetSettings struct {
	form                   *widget.Form
	broker, user, password *widget.Entry
}

func newFleetSettings(s settings) *fleetSettings {
	f := &fleetSettings{broker: entry(s.FleetBroker, "mqtt://broker:1883 or mqtts://broker:8883"),
		user: widget.NewEntry(), password: widget.NewPasswordEntry()}
	f.user.SetPlaceHolder("kept in the key store")
	broker := widget.NewFormItem("Broker", f.broker)
	broker.HintText = "the Fleet page follows the cameras here"
	f.form = widget.NewForm(broker, widget.NewFormItem("User", f.user), widget.NewFormItem("Password", f.password))
	return f
}

// keys adds the broker's credentials to the keys the form saves.
func (f *fleetSettings) keys(m map[string]*widget.Entry) map[string]*widget.Entry {
	m[keyBrokerUser], m[keyBrokerPassword] = f.user, f.password
	return m
}

// checkBroker refuses a broker URL the Fleet page could not use; empty is
// fine: no fleet.
func checkBroker(url string) error {
	if url == "" {
		return nil
	}
	if _, err := (mqtt.Config{URL: url}).Connection(""); err != nil {
		return fmt.Errorf("fleet broker: %w", err)
	}
	return nil
}
