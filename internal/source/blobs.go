package source

import (
	"fmt"
	"io"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/shipshape-dev/shipshape/internal/imagefs"
)

// blobs describes the layers of v for the walk. compressed says whether the
// source hands out the layers' blobs as the manifest digests them (registry,
// OCI layout); archive sources hand out uncompressed tars checked by diff ID.
func blobs(img *Image, v v1.Image, compressed bool) error {
	layers, err := v.Layers()
	if err != nil {
		return fmt.Errorf("listing layers: %w", err)
	}
	if len(layers) != len(img.Config.RootFS.DiffIDs) {
		return fmt.Errorf("the image lists %d layers but its config %d diff IDs", len(layers), len(img.Config.RootFS.DiffIDs))
	}
	hist := historyLines(img.Config, len(layers))
	img.Layers = make([]imagefs.Blob, len(layers))
	for i, l := range layers {
		b := imagefs.Blob{DiffID: img.Config.RootFS.DiffIDs[i].String(), CreatedBy: hist[i]}
		if compressed {
			b.MediaType = string(img.Manifest.Layers[i].MediaType)
			b.Digest = img.Manifest.Layers[i].Digest.String()
			b.Open = l.Compressed
		} else {
			b.Open = l.Uncompressed
		}
		img.Layers[i] = b
	}
	return nil
}

type ioReadCloser = io.ReadCloser
