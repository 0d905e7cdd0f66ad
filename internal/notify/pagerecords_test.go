package notify_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/klaxon-oss/klaxon"
)

// Every person an escalation step calls is recorded for Insights' on-call
// load, mentions in the first message included; a step that pages a
// channel with no one named records no one.
func TestEscalationRecordsPages(t *testing.T) {
	e := startEscalation(t, "")
	start := e.clock.Now()
	e.fire("critical")
	e.runDue()
	groupID := firstPost(t, e.chat.recorder).Message.GroupID
	e.at(15 * time.Minute)
	e.at(15 * time.Minute)

	got, err := e.store.PageRecords(context.Background(), start, e.clock.Now().Add(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	for i := range got {
		got[i].ID = 0
	}
	want := []klaxon.PageRecord{
		{At: start, Person: "alice", GroupID: groupID, Level: 0, Channel: "ops"},
		{At: start.Add(15 * time.Minute), Person: "bob", GroupID: groupID, Level: 0, Channel: "ops"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("page records:\n got %+v\nwant %+v", got, want)
	}
}
