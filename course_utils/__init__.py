"""course_utils: the helper package of the course on transfer learning for image reconstruction.

Modules
-------
config   the fast-mode switch (``COURSE_FAST``)
data     image loading/saving, the course's image domains, checksummed downloads
degrade  MATLAB-compatible bicubic resize, other interpolators, blur, noise, JPEG, pipelines
metrics  MSE, PSNR, SSIM from their formulas, Y conversion, the SR evaluation recipe
evaluate the evaluation command's recipe over a folder of images
viz      comparison figures with zoomed insets, metric tables, the course's plot style
device   device choice (CUDA, MPS, CPU) and seeding
"""

__version__ = "0.1.0"
