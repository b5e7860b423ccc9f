// Package ssmsession is Session Manager's data channel, served the way the
// real session-manager-plugin (which `aws ssm start-session` runs) expects
// it, with minicloud playing both the ssmmessages service and the SSM agent
// in the instance.
//
// # The wire
//
// The plugin opens a websocket to the StreamUrl StartSession returned
// (/v1/data-channel/<session-id>?role=publish_subscribe…; the gateway hands
// that path to Manager) and sends a JSON text frame with the session's
// token (OpenDataChannelInput). Everything after is binary agent messages
// (message.go: a 116-byte header — type, schema version, creation time,
// sequence number, flags, message ID, the payload's SHA-256, payload type —
// then the payload). Stream data goes as input_stream_data (plugin to
// agent) and output_stream_data (agent to plugin), each direction numbered
// from 0 and acknowledged one message at a time (acknowledge, a JSON
// payload naming type, ID and sequence number). The sender keeps what is
// not acknowledged and sends it again after a timeout; the receiver
// delivers in sequence order, buffering what comes early and only
// acknowledging duplicates. The plugin drops (without acknowledging) the
// output that comes before its session handler is ready: retransmission
// is what brings it. channel_closed ends the session on the plugin's side.
//
// # A session
//
// StartSession (the ssm service) registers a Spec with Manager.Start; the
// agent's side begins when the plugin connects with the token: a
// HandshakeRequest naming the session type (Standard_Stream for shells,
// Port for port forwarding) and the document's properties, the plugin's
// HandshakeResponse, a HandshakeComplete. A shell is then a process on a
// terminal in the instance through agentport.Executor (the instance's init
// forks it: nothing of the host), started at the plugin's first Size
// message (or after a second without one) and resized at each; the
// plugin's keystrokes are written to the terminal (so ^C interrupts the
// foreground job, as a terminal does), the shell profile first, as the
// agent writes it. When the shell exits, the output still unacknowledged
// is given a few seconds, then channel_closed; the exit status goes to
// Spec.OnEnd. A websocket that drops leaves the session running, to be
// resumed with a new token (SetToken, ResumeSession); Terminate, the idle
// and maximum durations, and Close (minicloud stopping) end it.
//
// It must not know the ssm API's records or IAM: the ssm service decides
// who may connect, and to what.
package ssmsession
