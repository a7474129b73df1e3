public enum MedEngine {}
