"""torchvision's interpolate_embeddings on a ViT-B/16 position embedding, for tlcv's loading of
pretrained ViT weights at another input size.

usage: vit_interpolate.py IN_DIR OUT_DIR IMAGE_SIZE

IN_DIR holds `pos` [1, 1 + g*g, 768] (tlcv_peer format); OUT_DIR gets `pos` for IMAGE_SIZE / 16.
"""
import sys

from torchvision.models.vision_transformer import interpolate_embeddings

from tlcv_peer import load, save


def main():
    tensors, _ = load(sys.argv[1])
    state = interpolate_embeddings(int(sys.argv[3]), 16, {"encoder.pos_embedding": tensors["pos"]})
    save(sys.argv[2], {"pos": state["encoder.pos_embedding"]})


main()
