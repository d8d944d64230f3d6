"""The checks behind the notebooks' exercises: ``from course_utils.exercises import unit04 as
check``, then ``check.exercise_1(answer)`` in the notebook.

==========  =====================================================================
module      what it checks
==========  =====================================================================
common      the protocol: wait for an answer, :class:`~.common.WrongAnswer` with
            specific feedback, the helpers every unit uses
unit00      unit 00 (welcome): the photos, the nearest baseline, 16-bit images
unit01      unit 01: the cubic kernel, one output pixel, one resize for every kernel
unit02      unit 02: PSNR from MSE, SSIM with a uniform window, brightness, signs
unit03      unit 03: ESPCN's parameters, width against accuracy, FSRCNN's cost,
            PixelShuffle by hand
unit04      unit 04: unfreezing stage by stage, another backbone, training-set size
unit05      unit 05: windows, the strength of L2-SP, a third domain
unit06      unit 06: estimating sigma, J-invariance, the learned alpha of another task
unit07      unit 07: an autoencoder's code size, the estimated rate, JPEG at equal rate
==========  =====================================================================
"""
