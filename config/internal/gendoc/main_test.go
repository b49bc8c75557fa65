package main

import (
	"os"
	"strings"
	"testing"
)

// The README's table and the example file are what gendoc derives from
// config.Config now; a setting added, renamed or re-described without
// `go generate ./config` fails here.
func TestGeneratedFilesMatchConfig(t *testing.T) {
	readme, err := os.ReadFile("../../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	want, err := withTable(string(readme), table())
	if err != nil {
		t.Fatalf("README.md: %v", err)
	}
	if want != string(readme) {
		t.Errorf("README.md's configuration table differs from config.Config: run go generate ./config")
	}
	ex, err := os.ReadFile("../../../deploy/gateway.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	wantEx, err := example()
	if err != nil {
		t.Fatal(err)
	}
	if string(ex) != string(wantEx) {
		t.Errorf("deploy/gateway.example.yaml differs from config.Config: run go generate ./config")
	}
}

func TestWithTableNeedsMarkers(t *testing.T) {
	if _, err := withTable("no markers here", "x"); err == nil || !strings.Contains(err.Error(), "marker") {
		t.Fatalf("err = %v", err)
	}
	got, err := withTable("a\n"+beginMarker+"\nold\n"+endMarker+"\nb", "new\n")
	if err != nil || got != "a\n"+beginMarker+"\nnew\n"+endMarker+"\nb" {
		t.Fatalf("got %q, %v", got, err)
	}
}
