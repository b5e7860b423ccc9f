module github.com/minicloud/minicloud

go 1.26.8

require (
	github.com/aws/aws-sdk-go-v2 v1.48.0
	github.com/aws/smithy-go v1.28.9
	github.com/fxamacker/cbor/v2 v2.9.0
	go.etcd.io/bbolt v1.4.3
)

require (
	github.com/x448/float16 v0.8.4 // indirect
	golang.org/x/sys v0.29.0 // indirect
)
