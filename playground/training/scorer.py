"""Train the CLIP-style scorer (playground.image.scorer) contrastively on the emoji dataset.

    python -m playground.training.scorer --out DIR [--steps 3000 --batch-size 256]

Each batch pairs pictures with one of their captions (a random detail level); the loss pulls every
picture towards its caption and away from the others, both ways (CLIP's symmetric cross-entropy).
Pairs whose captions are identical ("food" and "food") both count as matches. Pictures are shifted
by a few pixels so that position does not matter; colours are never altered, they are the point.
"""

import sys

import torch
import torch.nn.functional as F

from playground.image.scorer import Scorer, ScorerConfig, save_scorer
from playground.training import loop
from playground.training.captioned import shift


def main(argv: list[str] | None = None) -> int:
    parser = loop.parser("python -m playground.training.scorer", __doc__.splitlines()[0])
    args = parser.parse_args(argv)
    data, rng = loop.start(args)
    scorer = Scorer(ScorerConfig(image_size=data.images.shape[-1], width=8 if args.tiny else 32)).to(args.device)
    optimizer = torch.optim.AdamW(scorer.parameters(), lr=args.lr, weight_decay=0.05)
    step = loop.load_checkpoint(args.out, {"scorer": scorer}, {"optimizer": optimizer}, rng)
    loop.announce("scorer", scorer, f"{len(data.images)} images", step)
    progress = loop.Progress()
    while step < args.steps:
        rows, caption = data.sample(args.batch_size, rng)
        images = shift(data.images[rows], rng).to(args.device)
        with loop.autocast(args.device):
            logits = scorer.logits(images, data.sentence[caption].to(args.device)).float()
        same = (caption[:, None] == caption[None, :]).float().to(args.device)
        targets = same / same.sum(1, keepdim=True)
        loss = (F.cross_entropy(logits, targets) + F.cross_entropy(logits.T, targets)) / 2
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        with torch.no_grad():
            scorer.log_temperature.clamp_(0, 4.6)  # temperature between 0.01 and 1, as in CLIP
        step += 1
        progress.log(step, loss=loss.item())
        if step % args.checkpoint_every == 0 or step == args.steps:
            loop.save_checkpoint(args.out, step, {"scorer": scorer}, {"optimizer": optimizer}, rng, {"loss": loss.item()})
            save_scorer(scorer, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
