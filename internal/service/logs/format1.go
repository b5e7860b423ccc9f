package logs

import (
	"bufio"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"os"
)

// Format 1 stream files — frames of u32 payload length, u32 CRC-32C and
// the payload: first the stream's names (kind 'H'), then batches (kind
// 'B': ingestion time, first sequence number, count, then each event) —
// are converted to format 2 when opened, once: their index could only be
// rebuilt by decoding every batch.

// convertV1 rewrites the format 1 file at path in format 2 (temp file,
// fsync, rename), cutting a torn tail as the format 1 reader did.
func convertV1(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	r := bufio.NewReader(f)
	var out []byte
	first := true
	for {
		payload, err := readV1Frame(r)
		if err != nil {
			break // EOF or a torn/corrupt tail
		}
		if first {
			key, err := decodeV1Header(payload)
			if err != nil {
				return err
			}
			out = newFile(key, 0)
			first = false
			continue
		}
		evs, err := decodeV1Batch(payload)
		if err != nil {
			break
		}
		if len(evs) > 0 {
			fr, _ := batchFrame(evs, evs[0].Seq)
			out = append(out, fr...)
		}
	}
	if first {
		return errors.New("no header")
	}
	tmp := path + ".tmp"
	nf, err := writeSynced(tmp, out, os.O_TRUNC)
	if err != nil {
		_ = os.Remove(tmp)
		return err
	}
	nf.Close()
	return os.Rename(tmp, path)
}

func readV1Frame(r io.Reader) ([]byte, error) {
	var h [8]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return nil, err
	}
	n := binary.LittleEndian.Uint32(h[:4])
	if n > maxPayload {
		return nil, errors.New("frame too large")
	}
	payload := make([]byte, n)
	if _, err := io.ReadFull(r, payload); err != nil {
		return nil, err
	}
	if crc32.Checksum(payload, crcTable) != binary.LittleEndian.Uint32(h[4:]) {
		return nil, errors.New("checksum mismatch")
	}
	return payload, nil
}

func decodeV1Header(b []byte) (streamKey, error) {
	if len(b) == 0 || b[0] != 'H' {
		return streamKey{}, errors.New("not a stream header")
	}
	b = b[1:]
	var parts [4]string
	for i := range parts {
		var err error
		if parts[i], b, err = readString(b); err != nil {
			return streamKey{}, err
		}
	}
	return streamKey{parts[0], parts[1], parts[2], parts[3]}, nil
}

func decodeV1Batch(b []byte) ([]event, error) {
	if len(b) == 0 || b[0] != 'B' {
		return nil, errors.New("not a batch")
	}
	b = b[1:]
	ingest, k := binary.Varint(b)
	if k <= 0 {
		return nil, errors.New("short batch")
	}
	b = b[k:]
	seq, k := binary.Uvarint(b)
	if k <= 0 {
		return nil, errors.New("short batch")
	}
	b = b[k:]
	n, k := binary.Uvarint(b)
	if k <= 0 || n > 1<<20 {
		return nil, errors.New("short batch")
	}
	return decodeEvents(b[k:], n, ingest, seq)
}
