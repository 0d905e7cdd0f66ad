package app_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/dendritetest"
)

// TestMatrixWithDendrite runs the whole path on a real Matrix homeserver:
// a real Alertmanager fires a critical alert, Klaxon posts it to a room on
// Dendrite, alice acks it by typing in the room, and the message is edited
// in place.
func TestMatrixWithDendrite(t *testing.T) {
	amBin := requireBinary(t, "prometheus-alertmanager")
	amtoolBin := requireBinary(t, "amtool")
	hs := dendritetest.Start(t)
	bot, botToken := hs.Register(t, "klaxon")
	alice, aliceToken := hs.Register(t, "alice")
	room := hs.CreateRoom(t, aliceToken, "alerts")

	k := startKlaxon(t, serverOptions{extraYAML: fmt.Sprintf(`
channels:
  - name: ops-matrix
    type: matrix
    homeserver: %s
    access_token: %s
    room: "#alerts:%s"
    mention: ["%s"]
`, hs.URL, botToken, dendritetest.ServerName, alice)})
	am := startAlertmanager(t, amBin, amtoolBin, k.URL, false)

	am.add(t, amAlert{labels: map[string]string{"alertname": "KubeNodeNotReady", "node": "worker-3", "severity": "critical"},
		summary: "Node worker-3 is not ready"}, time.Now().Add(-time.Minute), time.Time{})
	posted := hs.WaitMessages(t, aliceToken, room, "Klaxon's post", func(events []dendritetest.Event) bool {
		return len(fromBot(events, bot, "")) == 1
	})
	post := fromBot(posted, bot, "")[0]
	if !strings.Contains(post.Body, "ack 1") || !strings.Contains(post.FormattedBody, "KubeNodeNotReady") || len(post.Mentions) != 1 || post.Mentions[0] != alice {
		t.Fatalf("post: body %q, mentions %v", post.Body, post.Mentions)
	}

	// The listener joined and synced once the bot posted; alice acks.
	eventually(t, "alice's ack through Dendrite", func() error {
		d, err := k.Client.Alert(t.Context(), 1)
		if err != nil {
			return err
		}
		if d.Alert.State == klaxon.StateAcknowledged && d.Alert.AckedBy == alice {
			return nil
		}
		hs.Say(t, aliceToken, room, "ack 1")
		time.Sleep(2 * time.Second) // let the listener see it before saying it again
		return fmt.Errorf("alert is %s by %q", d.Alert.State, d.Alert.AckedBy)
	})
	hs.WaitMessages(t, aliceToken, room, "the edit and the reply in the thread", func(events []dendritetest.Event) bool {
		edits, replies := fromBot(events, bot, "m.replace"), fromBot(events, bot, "m.thread")
		return len(edits) > 0 && strings.Contains(fmt.Sprint(edits[len(edits)-1].NewContent["body"]), "ACKNOWLEDGED by "+alice) &&
			len(replies) > 0 && strings.Contains(replies[0].Body, alice+" acknowledged 1")
	})
}

// fromBot are the bot's m.room.message events with this relation ("" for
// none).
func fromBot(events []dendritetest.Event, bot, rel string) []dendritetest.Event {
	var out []dendritetest.Event
	for _, e := range events {
		if e.Sender == bot && e.Type == "m.room.message" && e.RelType == rel {
			out = append(out, e)
		}
	}
	return out
}
