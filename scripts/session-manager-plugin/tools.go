//go:build tools

// Package plugin pins the modules the session-manager-plugin is built
// from (go.mod); ../session-manager-plugin.sh builds it.
package plugin

import _ "github.com/aws/session-manager-plugin/src/sessionmanagerplugin-main"
