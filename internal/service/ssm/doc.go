// Package ssm is AWS Systems Manager: Parameter Store, documents, managed
// instances and Run Command (JSON 1.1, target prefix AmazonSSM), with
// Systems Manager's validation, ARNs and errors.
//
// Session Manager's operations (StartSession, TerminateSession,
// ResumeSession, DescribeSessions) and its data channel are built beside
// it (branch ssm-session); until then the gateway answers them
// NotImplemented, as every operation the generated ssmapi.Server does not
// list.
//
// What it must not do: run processes in instances itself (the instance
// runtime's exec port does), or reach into EC2 or IAM other than through
// their ports.
package ssm
