"""Train our conditional GAN on 64 px scenes of the world (see playground.image.gan and playground.training.scenes).

    python -m playground.training.gan --out DIR [--steps 20000 --batch-size 64 --threads 2]

Every batch is fresh scenes of the world (loop.world_batches: the training split, captioned at a random level of
detail, one caption in ten the empty prompt, so the generator also makes a picture with no prompt), the same
scenes the diffusion model learns from; fresh scenes every step leave the discriminator nothing to memorise.
Hinge loss; the discriminator sees real pictures with their captions, generated pictures with the captions they
were made from, and real pictures with a wrong caption (so that matching the prompt matters, not only looking
real). Half the generated batch repeats the other half's prompts with new noise, and the generator is rewarded for
making those pairs differ (mode seeking, Mao et al. 2019): without it, a prompt gave nearly the same picture for
every seed. The exported generator is an exponential moving average of the trained one. A run resumes from
DIR/checkpoint.
"""

import sys

import torch
import torch.nn.functional as F

from playground.image.gan import Discriminator, GANConfig, Generator, save_generator
from playground.image.world import SIZE
from playground.precision import autocast
from playground.training import loop
from playground.training.emoji_styles import TRAINING_STYLES
from playground.training.scenes import load_world_sprites

EMA_DECAY = 0.999
MODE_SEEKING = 0.1  # weight of the mode-seeking term: two noises, same prompt, should give different pictures
WIDTH = 16  # a 1.6 M-parameter generator, as large as the 32 px one; at 32, a step at 64 px costs 4 times as much


def main(argv: list[str] | None = None) -> int:
    parser = loop.parser("python -m playground.training.gan", __doc__.splitlines()[0])
    parser.set_defaults(steps=20_000, lr=2e-4)
    args = parser.parse_args(argv)
    rng = loop.seeded(args)
    world = load_world_sprites(TRAINING_STYLES)
    config = GANConfig(image_size=SIZE, width=8 if args.tiny else WIDTH)
    generator, discriminator = Generator(config).to(args.device), Discriminator(config).to(args.device)
    ema = loop.EMA(generator, EMA_DECAY)
    opt_g = torch.optim.Adam(generator.parameters(), lr=args.lr, betas=(0.0, 0.9))
    opt_d = torch.optim.Adam(discriminator.parameters(), lr=args.lr, betas=(0.0, 0.9))
    modules = {"generator": generator, "discriminator": discriminator, "ema": ema.model}
    step = loop.load_checkpoint(args.out, modules, {"opt_g": opt_g, "opt_d": opt_d}, rng)
    loop.announce("generator", generator, f"{len(world.sprites)} sprites", step)
    progress = loop.Progress()
    upcoming = loop.world_batches(world, args.batch_size, args.seed, step, args.workers)
    while step < args.steps:
        pictures, encoding = next(upcoming)
        real, sentence = pictures.to(args.device), encoding.sentence.to(args.device)
        half = len(sentence) // 2
        fake_text = torch.cat([sentence[:half], sentence[:half]])  # pairs: same prompt, new noise
        wrong = sentence.roll(1, 0)
        noise = torch.randn(len(real), config.noise_dim, generator=rng).to(args.device)
        with autocast(args.device):
            fake = generator(noise, fake_text)
            d_real = discriminator(real, sentence).float()
            d_fake = discriminator(fake.detach(), fake_text).float()
            d_wrong = discriminator(real, wrong).float()
        loss_d = F.relu(1 - d_real).mean() + F.relu(1 + d_fake).mean() / 2 + F.relu(1 + d_wrong).mean() / 2
        opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        opt_d.step()

        with autocast(args.device):
            loss_adversarial = -discriminator(fake, fake_text).float().mean()
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
