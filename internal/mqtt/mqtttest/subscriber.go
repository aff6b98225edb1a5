package mqtttest

import (
	"context"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/autopaho"
	"github.com/eclipse/paho.golang/paho"
)

// Message is one PUBLISH the subscriber received.
type Message struct {
	Topic   string
	Payload string
	Retain  bool
	Dup     bool // the broker's redelivery of a message it had sent before
}

// Subscriber is a real MQTT 5 client (paho) holding a persistent session
// (QoS 1), so the broker keeps its messages while it is away.
type Subscriber struct {
	mu   sync.Mutex
	msgs []Message
	got  chan struct{} // closed and replaced at each message
	cm   *autopaho.ConnectionManager
}

// Subscribe connects to brokerURL (mqtt://…) as clientID, with user and
// password when user is not empty, subscribes to filter at QoS 1 and
// returns once the subscription stands. It resubscribes after reconnects
// and disconnects when the test ends.
func Subscribe(t testing.TB, brokerURL, clientID, user, password, filter string) *Subscriber {
	t.Helper()
	u, err := url.Parse(brokerURL)
	if err != nil {
		t.Fatal(err)
	}
	s := &Subscriber{got: make(chan struct{})}
	subscribed := make(chan error, 1)
	cfg := autopaho.ClientConfig{
		ServerUrls: []*url.URL{u},
		KeepAlive:  30,
		// Clean start stays off: mosquitto 2.0.11 does not keep across a
		// restart the session of a client that connected with it on.
		SessionExpiryInterval: 3600,
		ReconnectBackoff:      autopaho.NewConstantBackoff(20 * time.Millisecond),
		ConnectUsername:       user,
		ConnectPassword:       []byte(password),
		OnConnectionUp: func(cm *autopaho.ConnectionManager, _ *paho.Connack) {
			go func() {
				_, err := cm.Subscribe(context.Background(), &paho.Subscribe{
					Subscriptions: []paho.SubscribeOptions{{Topic: filter, QoS: 1}}})
				select {
				case subscribed <- err:
				default:
				}
			}()
		},
		ClientConfig: paho.ClientConfig{
			ClientID: clientID,
			OnPublishReceived: []func(paho.PublishReceived) (bool, error){func(pr paho.PublishReceived) (bool, error) {
				s.add(Message{Topic: pr.Packet.Topic, Payload: string(pr.Packet.Payload),
					Retain: pr.Packet.Retain, Dup: pr.Packet.Duplicate()})
				return true, nil
			}},
		},
	}
	s.cm, err = autopaho.NewConnection(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = s.cm.Disconnect(ctx)
	})
	select {
	case err := <-subscribed:
		if err != nil {
			t.Fatalf("subscribing to %s: %v", filter, err)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("subscriber could not connect to %s and subscribe", brokerURL)
	}
	return s
}

func (s *Subscriber) add(m Message) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.msgs = append(s.msgs, m)
	close(s.got)
	s.got = make(chan struct{})
}

// Messages is what arrived so far, in arrival order.
func (s *Subscriber) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.msgs...)
}

// Await waits until done(messages so far) holds or timeout passes, and
// returns the messages and whether done held.
func (s *Subscriber) Await(timeout time.Duration, done func([]Message) bool) ([]Message, bool) {
	deadline := time.After(timeout)
	for {
		s.mu.Lock()
		msgs, got := append([]Message(nil), s.msgs...), s.got
		s.mu.Unlock()
		if done(msgs) {
			return msgs, true
		}
		select {
		case <-got:
		case <-deadline:
			return msgs, false
		}
	}
}

// WaitFor is Await that fails the test on a timeout, showing the last
// messages.
func (s *Subscriber) WaitFor(t testing.TB, timeout time.Duration, done func([]Message) bool) []Message {
	t.Helper()
	msgs, ok := s.Await(timeout, done)
	if !ok {
		var last []string
		for _, m := range msgs[max(0, len(msgs)-5):] {
			last = append(last, m.Topic+" "+m.Payload)
		}
		t.Fatalf("waited %v; %d messages arrived, the last: %s", timeout, len(msgs), strings.Join(last, "; "))
	}
	return msgs
}
