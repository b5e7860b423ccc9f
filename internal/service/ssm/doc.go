// Package ssm is AWS Systems Manager: Parameter Store, documents, managed
// instances and Run Command (JSON 1.1, target prefix AmazonSSM), with
// Systems Manager's validation, ARNs and errors.
//
// Session Manager (sessions.go): StartSession, TerminateSession,
// ResumeSession and DescribeSessions keep the sessions' records (Active,
// History; durable) and decide each session from its document
// (SSM-SessionManagerRunShell's preferences: run-as, shell profile, idle
// and maximum durations; AWS-StartInteractiveCommand; port forwarding with
// AWS-StartPortForwardingSession(ToRemoteHost) and AWS-StartSSHSession);
// package ssmsession serves their data channels and runs them in the
// instances (SetSessions). The StreamUrl names the address the caller
// reached minicloud by (ssmmessages.<region>.amazonaws.com from a VPC).
//
// What it must not do: run processes in instances itself (the instance
// runtime's exec port does), or reach into EC2 or IAM other than through
// their ports.
package ssm
