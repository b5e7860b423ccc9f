// Package ssm is AWS Systems Manager (ssm, JSON 1.1, target prefix
// AmazonSSM): Parameter Store, documents, managed instances and Run
// Command, with Systems Manager's validation ("1 validation error
// detected: …" from the model's constraints, validate.go), ARNs and
// errors.
//
// What it owns:
//
//   - Parameter Store (params.go, query.go, labels.go, names.go,
//     policies.go, secure.go, tags.go): one record per parameter with its
//     last 100 versions (labels on versions, tags on the parameter);
//     tiers (Standard 4,096 characters, Advanced 8,192, Intelligent-
//     Tiering picking Advanced for a larger value or policies, no
//     downgrade) and the regional quotas counted by an index; parameter
//     policies validated (an Expiration hides the parameter from its
//     time; the notifications are kept); DataType text, aws:ssm:integration
//     and aws:ec2:image (an AMI the account can launch, asked of EC2
//     through Images). SecureString values are sealed at rest with
//     AES-256-GCM under a key of the account kept in Config.KeyDir, the
//     parameter's ARN as additional data; without WithDecryption the
//     sealed value is answered, as AWS answers KMS's ciphertext. The
//     KeyId given (alias/aws/ssm by default) is recorded until KMS exists.
//   - The public parameters under /aws/service/ (public.go): the AMI
//     parameters AWS publishes, naming EC2's built-in images (the names are
//     EC2's, Images.PublicImageParameters), read-only.
//   - Documents (docrecords.go, documents.go): AWS's own
//     (documents/*.json, read-only, Owner Amazon) and the account's
//     Command (schema 1.2, 2.0, 2.2) and Session (1.0) documents, JSON or
//     YAML, with versions, a default version and version names.
//     SSM-SessionManagerRunShell is the account's: until it writes its
//     own, AWS's default answers for it.
//   - Managed instances (agent.go, instances.go): minicloud plays the SSM
//     Agent. A controller on internal/reconcile checks every instance off
//     the request path: its profile's role must allow the agent's core
//     actions (IAM's policy engine over the role's policies), and from
//     inside the instance (agentport.Dialer) ssm.<region>.amazonaws.com
//     must resolve through the VPC's resolver and accept a connection on
//     443 — through an internet gateway, a NAT gateway or an interface
//     endpoint, whatever the instance's routes and security groups allow.
//     DescribeInstanceInformation answers what it found; TargetConnected
//     is the check StartSession and SendCommand make (TargetNotConnected).
//   - Run Command (commands.go, cmdapi.go, runner.go): commands and their
//     invocations, durable; the runner runs the steps (aws:runShellScript)
//     in the instances through agentport.Executor with MaxConcurrency,
//     MaxErrors and execution timeouts, keeping the first 24,000
//     characters of standard output and 8,000 of standard error; a command
//     a stop interrupted is recorded as failed at the next start.
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
// What it must not do: run processes in instances or open connections
// from them itself (the instance runtime does, behind agentport), or
// reach into EC2 or IAM other than through the ports of its Config.
package ssm
