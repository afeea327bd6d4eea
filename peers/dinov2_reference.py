"""A PyTorch reference of DINOv2's ViT (Oquab et al., 2023), written from the paper and the
official checkpoint's layout, for tlcv's parity tests (test/peer/dinov2_parity.py) and probes.

State-dict names and shapes are those of the published files (torch.hub's dinov2_vits14 and
dinov2_vitb14: img_size 518, patch 14, layer scale 1.0, qkv bias, no register tokens, blocks not
chunked): cls_token, pos_embed, mask_token, patch_embed.proj, blocks.i.{norm1, attn.qkv, attn.proj,
ls1.gamma, norm2, mlp.fc1, mlp.fc2, ls2.gamma}, norm. The published backbone ends in an identity
head; here `head` is DINOv2's linear evaluation on top: a Linear on the class token concatenated
with the mean patch token (both after the final norm).
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

SIZES = {"dinov2_vits14": (384, 6), "dinov2_vitb14": (768, 12)}


class PatchEmbed(nn.Module):
    def __init__(self, c, dim, patch):
        super().__init__()
        self.proj = nn.Conv2d(c, dim, patch, stride=patch)

    def forward(self, x):
        return self.proj(x).flatten(2).transpose(1, 2)


class Attention(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim, bias=True)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        b, n, c = x.shape
        q, k, v = self.qkv(x).reshape(b, n, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        attn = (q * (c // self.heads) ** -0.5) @ k.transpose(-2, -1)
        return self.proj((attn.softmax(-1) @ v).transpose(1, 2).reshape(b, n, c))


class LayerScale(nn.Module):
    def __init__(self, dim, init):
        super().__init__()
        self.gamma = nn.Parameter(init * torch.ones(dim))

    def forward(self, x):
        return x * self.gamma


class Mlp(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class Block(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = Attention(dim, heads)
        self.ls1 = LayerScale(dim, 1.0)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = Mlp(dim, 4 * dim)
        self.ls2 = LayerScale(dim, 1.0)

    def forward(self, x):
        x = x + self.ls1(self.attn(self.norm1(x)))
        return x + self.ls2(self.mlp(self.norm2(x)))


class DinoV2(nn.Module):
    def __init__(self, name, num_classes, in_chans=3, img_size=518, patch=14, depth=12):
        super().__init__()
        dim, heads = SIZES[name]
        self.patch, self.dim = patch, dim
        grid = img_size // patch
        self.patch_embed = PatchEmbed(in_chans, dim, patch)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, grid * grid + 1, dim))
        self.blocks = nn.ModuleList([Block(dim, heads) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.head = nn.Linear(2 * dim, num_classes)
        self.mask_token = nn.Parameter(torch.zeros(1, dim))
        nn.init.trunc_normal_(self.pos_embed, std=0.02)
        nn.init.normal_(self.cls_token, std=1e-6)
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.trunc_normal_(m.weight, std=0.02)
                nn.init.zeros_(m.bias)
        nn.init.normal_(self.head.weight, std=0.01)
        nn.init.zeros_(self.head.bias)

    def interpolate_pos_encoding(self, h, w):
        """The published models' arithmetic: scale factors (grid + 0.1) / M, bicubic, no antialias."""
        n = self.pos_embed.shape[1] - 1
        gh, gw = h // self.patch, w // self.patch
        if gh * gw == n and h == w:
            return self.pos_embed
        m = int(math.sqrt(n))
        pos = self.pos_embed.float()
        grid = pos[:, 1:].reshape(1, m, m, self.dim).permute(0, 3, 1, 2)
        grid = F.interpolate(grid, scale_factor=((gh + 0.1) / m, (gw + 0.1) / m), mode="bicubic")
        assert grid.shape[-2:] == (gh, gw)
        return torch.cat((pos[:, :1], grid.permute(0, 2, 3, 1).reshape(1, gh * gw, self.dim)), dim=1)

    def forward_features(self, x):
        t = self.patch_embed(x)
        t = torch.cat((self.cls_token.expand(t.shape[0], -1, -1), t), dim=1)
        t = t + self.interpolate_pos_encoding(x.shape[2], x.shape[3]).to(t.dtype)
        for blk in self.blocks:
            t = blk(t)
        return self.norm(t)

    def forward(self, x):
        f = self.forward_features(x)
        return self.head(torch.cat((f[:, 0], f[:, 1:].mean(1)), dim=1))


def official_state_dict(model):
    """The published file's keys: everything but the linear-evaluation head."""
    return {k: v for k, v in model.state_dict().items() if not k.startswith("head.")}
