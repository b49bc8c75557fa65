package api

import _ "embed"

//go:embed openapi.yaml
var specYAML []byte

// SpecYAML returns the contract as written in api/openapi.yaml. The caller
// must not modify the returned slice.
func SpecYAML() []byte { return specYAML }
