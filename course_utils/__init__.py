"""course_utils: the helper package of the course on transfer learning for image reconstruction.

The layers read bottom-up; a module imports only from the layers below it (a test checks it).

==========  ===============================  ===============================================
layer       module                           its one job
==========  ===============================  ===============================================
base        ``config``                       the fast-mode switch (``COURSE_FAST``), the repo
            ``checks``                       input validation with errors that say what to do
            ``device``                       device choice (CUDA, MPS, CPU), seeding
images      ``images``                       image conventions: int/float, gray/RGB,
                                             image <-> tensor, BT.601 Y/YCbCr
            ``degrade``                      MATLAB bicubic ``imresize``, the benchmark LR,
                                             blur kernels, noise (Gaussian,
                                             Poisson-Gaussian), JPEG, inpainting masks,
                                             seeded pipelines
            ``metrics``                      MSE, PSNR, SSIM (NumPy, torch); the SR and the
                                             restoration scoring recipes
            ``tasks``                        SR, denoising, deblurring, inpainting, JPEG:
                                             target, degradation (observation) and score
            ``domain_gap``                   intensity, spectrum and edge statistics of domains
            ``viz``                          figures with zoomed insets, tables, plot style
data        ``data.io``                      reading and writing image files, folders
            ``data.downloads``               the data folder, checksummed downloads, benchmarks
            ``data.medical``                 DICOM and NIfTI readers, windowing
            ``data.catalogue``               every image domain, its splits and readers
            ``data.pairs``                   (input, target) patches and validation pairs
            ``compression.codecs``           JPEG, WebP, JPEG 2000, AVIF through Pillow
            ``compression.entropy``          the factorized prior (learned latent density)
            ``compression.bitstream``        a learned codec's latent to bytes and back
            ``compression.rd``               bpp, the rate-distortion loss, BD-rate
            ``compression.measure``          any codec on real files: bpp, PSNR, time; a target rate
models      ``models.registry``              ``register_model`` / ``get_model`` /
                                             ``list_models``, config validation
            ``models.sr``                    SRCNN, FSRCNN, ESPCN
            ``models.restoration``           DnCNN (residual restoration network)
            ``models.codec``                 a plain autoencoder, Ballé's learned codec
            ``models.fusion``                SR-source feature restorers, feature fusion
            ``models.backbones``             ImageNet encoders and their stages
            ``models.encoder_decoder``       U-Net and feature + sub-pixel designs
            ``models.freeze``                which weights train (freezing by stage or layer)
            ``models.complexity``            parameter and MAC counts
            ``models.compact``               pruning and int8 quantisation after training
            ``models.checkpoint``            safetensors checkpoints of any registered model
evaluation  ``evaluation.inference``         tiled reconstruction of whole images
            ``evaluation.classical``         the classical restoration baselines
                                             (scikit-image, BM3D)
            ``evaluation.evaluate``          methods, ``evaluate_images`` / ``_folder``
training    ``training.losses``              pixel, SSIM and perceptual losses
            ``training.loop``                ``fit``, ``History``, ``evaluate_psnr``
            ``training.finetune``            discriminative learning rates, L2-SP
            ``training.noise2self``          self-supervised denoising (masked training)
zoo         ``zoo.shipped``                  the shipped checkpoints, loaded hash-verified
            ``zoo.cards``                    model cards
            ``zoo.recipes``                  the recipes and ``pretrain`` that made them
experiments ``experiments.runner``           arms, data, ``run_arms``, ``summarize``
            ``experiments.transfer``         unit 04's experiment
            ``experiments.crossdomain``      unit 05's experiment
            ``experiments.restoration``      unit 06's experiment
            ``experiments.autoencoder``      unit 07's studies: optimiser, learning rate,
                                             batch, loss, capacity, overfitting
            ``experiments.codec_transfer``   unit 07's codecs on medical scans, zero-shot
                                             and fine-tuned
notebooks   ``explore``                      plain functions behind the explorers
            ``widgets``                      the one ipywidgets pattern of the explorers
            ``exercises.common``             the protocol of the exercise checks: wait for
                                             an answer, say what is wrong (``WrongAnswer``)
            ``exercises.unit00``             the checks of unit 00's exercises
            ``exercises.unit01``             ... of unit 01's
            ``exercises.unit02``             ... of unit 02's
            ``exercises.unit03``             ... of unit 03's
            ``exercises.unit04``             ... of unit 04's
            ``exercises.unit05``             ... of unit 05's
            ``exercises.unit06``             ... of unit 06's
            ``exercises.unit07``             ... of unit 07's
CLI         ``__main__``                     ``python -m course_utils evaluate | pretrain |
                                             models``
==========  ===============================  ===============================================
"""

__version__ = "0.1.0"
