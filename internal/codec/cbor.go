package codec

import (
	"github.com/fxamacker/cbor/v2"
)

// cborEnc writes the documents of CBOR bodies (free-form values).
var cborEnc cbor.EncMode

func init() {
	var err error
	cborEnc, err = cbor.EncOptions{
		Time:    cbor.TimeUnixDynamic,
		TimeTag: cbor.EncTagRequired,
		Sort:    cbor.SortBytewiseLexical,
	}.EncMode()
	if err != nil {
		panic(err)
	}
}
