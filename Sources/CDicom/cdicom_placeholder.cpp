// Implementation lands in dicom_file.cpp and friends.
#include "cdicom.h"
