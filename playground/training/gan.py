"""Train our conditional GAN on the emoji dataset (see playground.image.gan).

    python -m playground.training.gan --out DIR [--steps 6000 --batch-size 64 --threads 1]

Hinge loss; the discriminator sees real pictures with their captions, generated pictures with the
captions they were made from, and real pictures with a wrong caption (so that matching the prompt
matters, not only looking real). Half the generated batch repeats the other half's prompts with new
noise, and the generator is rewarded for making those pairs differ (mode seeking, Mao et al. 2019):
without it, a prompt gave nearly the same picture for every seed. Both players see the same random shifts of the pictures
(differentiable augmentation), which keeps the discriminator from memorising 3 400 images. One
caption in ten is the empty prompt, so the generator also makes a picture with no prompt. The
exported generator is an exponential moving average of the trained one.
"""

import sys

import torch
import torch.nn.functional as F

from playground.image.gan import Discriminator, GANConfig, Generator, save_generator
from playground.precision import autocast
from playground.training import loop
from playground.training.captioned import shift

CAPTION_DROPOUT = 0.1
EMA_DECAY = 0.999
MODE_SEEKING = 0.1  # weight of the mode-seeking term: two noises, same prompt, should give different pictures


def main(argv: list[str] | None = None) -> int:
    parser = loop.parser("python -m playground.training.gan", __doc__.splitlines()[0])
    args = parser.parse_args(argv)
    data, rng = loop.start(args)
    config = GANConfig(image_size=data.images.shape[-1], width=8 if args.tiny else 32)
    generator, discriminator = Generator(config).to(args.device), Discriminator(config).to(args.device)
    ema = loop.EMA(generator, EMA_DECAY)
    opt_g = torch.optim.Adam(generator.parameters(), lr=args.lr, betas=(0.0, 0.9))
    opt_d = torch.optim.Adam(discriminator.parameters(), lr=args.lr, betas=(0.0, 0.9))
    modules = {"generator": generator, "discriminator": discriminator, "ema": ema.model}
    step = loop.load_checkpoint(args.out, modules, {"opt_g": opt_g, "opt_d": opt_d}, rng)
    loop.announce("generator", generator, f"{len(data.images)} images", step)
    progress = loop.Progress()
    while step < args.steps:
        rows, caption = data.sample(args.batch_size, rng)
        caption[torch.rand(len(caption), generator=rng) < CAPTION_DROPOUT] = 0
        half = len(caption) // 2
        fake_caption = torch.cat([caption[:half], caption[:half]])  # pairs: same prompt, different noise
        text = data.sentence[caption].to(args.device)
        fake_text = data.sentence[fake_caption].to(args.device)
        wrong = data.sentence[caption.roll(1)].to(args.device)
        real = data.images[rows].to(args.device)
        noise = torch.randn(len(rows), config.noise_dim, generator=rng).to(args.device)
        with autocast(args.device):
            fake = generator(noise, fake_text)
            d_real = discriminator(shift(real, rng), text).float()
            d_fake = discriminator(shift(fake.detach(), rng), fake_text).float()
            d_wrong = discriminator(shift(real, rng), wrong).float()
        loss_d = F.relu(1 - d_real).mean() + F.relu(1 + d_fake).mean() / 2 + F.relu(1 + d_wrong).mean() / 2
        opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        opt_d.step()

        with autocast(args.device):
            loss_adversarial = -discriminator(shift(fake, rng), fake_text).float().mean()
        spread = (fake[:half] - fake[half:]).abs().mean() / (noise[:half] - noise[half:]).abs().mean()
        loss_g = loss_adversarial + MODE_SEEKING / (spread.float() + 1e-5)
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()
        step += 1
        ema.update(generator, step)
        progress.log(step, loss_d=loss_d.item(), loss_g=loss_adversarial.item(), spread=spread.item())
        if step % args.checkpoint_every == 0 or step == args.steps:
            loop.save_checkpoint(args.out, step, modules, {"opt_g": opt_g, "opt_d": opt_d}, rng,
                                 {"loss_d": loss_d.item(), "loss_g": loss_g.item(), "batch_size": args.batch_size})
            save_generator(ema.model, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
