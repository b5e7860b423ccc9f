package codec

import (
	"encoding/json"
	"testing"

	"github.com/minicloud/minicloud/internal/model"
)

// thingShapes is a small model exercising every scalar type, lists, maps,
// nested structures and a modeled error, shared by the hand-written tests.
const thingShapes = `{
	"Thing": {"type": "structure", "members": {
		"Name": {"shape": "String"},
		"Count": {"shape": "Integer"},
		"Big": {"shape": "Long"},
		"Ratio": {"shape": "Float"},
		"Score": {"shape": "Double"},
		"Flag": {"shape": "Boolean"},
		"When": {"shape": "Timestamp"},
		"Data": {"shape": "Blob"},
		"Tags": {"shape": "StringList"},
		"Attrs": {"shape": "StringMap"},
		"Nested": {"shape": "Nested"},
		"Items": {"shape": "NestedList"}
	}},
	"Nested": {"type": "structure", "members": {
		"Note": {"shape": "String"},
		"At": {"shape": "Timestamp"},
		"Inner": {"shape": "Nested"}
	}},
	"NestedList": {"type": "list", "member": {"shape": "Nested"}},
	"StringList": {"type": "list", "member": {"shape": "String"}},
	"StringMap": {"type": "map", "key": {"shape": "String"}, "value": {"shape": "String"}},
	"String": {"type": "string"},
	"Integer": {"type": "integer"},
	"Long": {"type": "long"},
	"Float": {"type": "float"},
	"Double": {"type": "double"},
	"Boolean": {"type": "boolean"},
	"Timestamp": {"type": "timestamp"},
	"Blob": {"type": "blob"},
	"ThingNotFound": {"type": "structure", "exception": true,
		"error": {"code": "ResourceNotFound", "httpStatusCode": 404, "senderFault": true},
		"members": {"message": {"shape": "String"}}},
	"Throttled": {"type": "structure", "exception": true,
		"error": {"httpStatusCode": 429, "senderFault": true},
		"members": {"message": {"shape": "String"}}},
	"Broken": {"type": "structure", "exception": true, "fault": true,
		"members": {"message": {"shape": "String"}}}
}`

const thingOperation = `{"name": "PutThing", "http": {"method": "POST", "requestUri": "/"},
	"input": {"shape": "Thing"}, "output": {"shape": "Thing"},
	"errors": [{"shape": "ThingNotFound"}, {"shape": "Throttled"}, {"shape": "Broken"}]}`

// thingCodec builds the thing model for protocol with metadata meta and
// returns its codec and PutThing operation.
func thingCodec(t testing.TB, protocol string, meta model.Metadata) (*Codec, *model.Operation) {
	t.Helper()
	var shapes map[string]json.RawMessage
	if err := json.Unmarshal([]byte(thingShapes), &shapes); err != nil {
		t.Fatalf("thing shapes: %v", err)
	}
	meta.Protocol = protocol
	svc, err := model.Build(meta, map[string]json.RawMessage{"PutThing": json.RawMessage(thingOperation)}, shapes)
	if err != nil {
		t.Fatalf("build thing model: %v", err)
	}
	c, err := New(svc, protocol)
	if err != nil {
		t.Fatal(err)
	}
	return c, svc.Operations["PutThing"]
}
