//go:build tools

// Package tools pins the Pulumi CLI this project's tests and offline machines run.
package tools

import _ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
