"""Data: image files, the catalogue of the course's image domains, downloads, training pairs.

Modules
-------
io         reading images with the field's readers (Pillow, pypng), atomic writing, folders
downloads  the course's data folder (``course_utils/assets/``), checksummed downloads, benchmarks
medical    DICOM (pydicom) and NIfTI (nibabel) readers, windowing
catalogue  every image domain (natural, medical, satellite ...), its splits and readers
pairs      (input, target) patches and validation pairs of any task
"""

from .catalogue import DOMAINS, DomainImage, domain_images, mednist_images
from .downloads import (
    BENCHMARKS,
    DataUnavailableError,
    Registry,
    cache_dir,
    data_dir,
    default_registry,
    fetch,
    fetch_benchmark,
)
from .io import IMAGE_EXTENSIONS, center_crop, list_images, load_image, save_image, write_text
from .pairs import PairedPatches, split_for_validation, validation_pairs

__all__ = ["BENCHMARKS", "DOMAINS", "IMAGE_EXTENSIONS", "DataUnavailableError", "DomainImage",
           "PairedPatches", "Registry", "cache_dir", "center_crop", "data_dir",
           "default_registry", "domain_images", "fetch", "fetch_benchmark", "list_images",
           "load_image", "mednist_images", "save_image", "split_for_validation",
           "validation_pairs", "write_text"]
