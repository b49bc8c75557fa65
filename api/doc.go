// Package api holds the zeroloss HTTP contract: openapi.yaml, the source of
// truth, and the types and server interface generated from it.
package api

//go:generate go tool oapi-codegen -config oapi-codegen.yaml openapi.yaml
