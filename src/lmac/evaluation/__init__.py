from lmac.evaluation.metrics import spearman, fisher_z_mean, mse_points, relative_l2, evaluate_predictions

__all__ = ["spearman", "fisher_z_mean", "mse_points", "relative_l2", "evaluate_predictions"]
