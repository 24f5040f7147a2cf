package source

import (
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/shipshape-dev/shipshape/internal/imagefs"
)

// blobs describes the layers of v for the walk, as the blobs the manifest
// digests (registry, OCI layout).
func blobs(img *Image, v v1.Image) error {
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
		b.MediaType = string(img.Manifest.Layers[i].MediaType)
		b.Digest = img.Manifest.Layers[i].Digest.String()
		b.Open = l.Compressed
		img.Layers[i] = b
	}
	return nil
}
