package mqtt

import (
	"crypto/tls"
	"net/url"
	"time"

	"github.com/eclipse/paho.golang/autopaho"
	"github.com/eclipse/paho.golang/paho"
)

// Connection is how another client of the plant's broker (the app's Fleet
// page) reaches it the way the sink does: the URL checked and stripped of
// credentials, TLS for mqtts:// (with CAFile), the user and password, and
// reconnects spaced by Backoff for as long as it runs. The caller adds its
// handlers. Camera is not needed; an empty clientID becomes
// sightline-<random>.
func (c Config) Connection(clientID string) (autopaho.ClientConfig, error) {
	if clientID == "" {
		clientID = "sightline-" + randomSuffix()
	}
	c = c.withDefaults()
	u, err := c.brokerURL()
	if err != nil {
		return autopaho.ClientConfig{}, err
	}
	tlsCfg, err := c.tlsConfig(u)
	if err != nil {
		return autopaho.ClientConfig{}, err
	}
	cfg := c.connection(u, tlsCfg)
	cfg.ClientID = clientID
	return cfg, nil
}

// connection is the part of a client's configuration every client of the
// broker shares.
func (c Config) connection(u *url.URL, tlsCfg *tls.Config) autopaho.ClientConfig {
	backoff := c.Backoff
	return autopaho.ClientConfig{
		ServerUrls: []*url.URL{u},
		TlsCfg:     tlsCfg,
		KeepAlive:  30,
		ReconnectBackoff: func(attempt int) time.Duration {
			if attempt == 0 {
				return 0
			}
			return backoff.Delay(attempt - 1)
		},
		ConnectTimeout:  10 * time.Second,
		ConnectUsername: c.Username,
		ConnectPassword: []byte(c.Password),
		ClientConfig:    paho.ClientConfig{ClientID: c.ClientID},
	}
}

// ConnectError says why a connection failed, in words (a broker's refusal
// with its reason), never with the password.
func (c Config) ConnectError(err error) string { return c.scrub(refusal(err)) }

// Scrub is err's text without the password.
func (c Config) Scrub(err error) string { return c.scrub(err) }
