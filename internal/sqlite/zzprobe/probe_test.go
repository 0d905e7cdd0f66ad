package zzprobe

import (
	"context"
	"database/sql"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/klaxon-oss/klaxon/internal/sqlite"
	"github.com/klaxon-oss/klaxon/internal/storetest"
	_ "modernc.org/sqlite"
)

const path = "/tmp/scratch1m.db"

func TestSeed(t *testing.T) {
	if _, err := os.Stat(path); err == nil {
		t.Skip("exists")
	}
	db, err := sqlite.Open(context.Background(), path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	storetest.SeedAlerts(t, db, 1000000)
}

func TestQuery(t *testing.T) {
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=query_only(1)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range strings.Split(os.Getenv("Q"), ";;") {
		if strings.TrimSpace(q) == "" {
			continue
		}
		rows, err := db.Query("EXPLAIN QUERY PLAN " + q)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var a, b, c int
			var d string
			rows.Scan(&a, &b, &c, &d)
			t.Log("  plan:", d)
		}
		rows.Close()
		start := time.Now()
		rows, err = db.Query(q)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for rows.Next() {
			n++
		}
		rows.Close()
		t.Logf("%d rows in %s: %s", n, time.Since(start), q)
	}
}
