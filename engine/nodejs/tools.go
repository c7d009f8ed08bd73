//go:build tools

// Package tools pins the Node.js language host the Pulumi CLI runs this project's program with.
package tools

import _ "github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3"
