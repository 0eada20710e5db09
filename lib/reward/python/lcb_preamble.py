# LiveCodeBench's import preamble (lcb_runner/evaluation/testing_util.py, import_string): the code reward
# (lib/reward/code-run.ts, preamble "lcb", the default) has the sandbox runner execute it before every program.
from string import *
from re import *
from datetime import *
from collections import *
from heapq import *
from bisect import *
from copy import *
from math import *
from random import *
from statistics import *
from itertools import *
from functools import *
from operator import *
from io import *
from sys import *
from json import *
from builtins import *
from typing import *
import string
import re
import datetime
import collections
import heapq
import bisect
import copy
import math
import random
import statistics
import itertools
import functools
import operator
import io
import sys
import json
sys.setrecursionlimit(50000)
